// The rerank-kit standalone server: `pnpm start` at the repository root, i.e. `rerank-kit serve` from source.
// Configured by RERANKER_* variables, a .env file, or flags such as --model-path ./model --port 8080;
// with RERANKER_LOAD_BALANCER_ENABLED=true it serves a router built from RERANKER_CONFIG_PATH instead of a model.
// The implementation is @rerank-kit/cli's `serve` command (packages/cli/src/commands/serve.ts).
import { processIo, runCli } from '@rerank-kit/cli'

// `pnpm start` runs in this package's folder: paths (and .env) are relative to where the command was typed.
const io = processIo({ cwd: process.env.INIT_CWD ?? process.cwd() })
process.exitCode = await runCli(['serve', ...process.argv.slice(2)], io)
