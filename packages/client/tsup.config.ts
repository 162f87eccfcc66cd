import { packageBuild } from '../../tsup.base'

// `ai-sdk` is its own entry so that `@ai-sdk/provider` (an optional peer) is loaded only by its users;
// `node` (node:http) so that the main entry stays free of Node-only imports (browsers, edge runtimes).
export default packageBuild({
  entry: { index: 'src/index.ts', 'ai-sdk': 'src/ai-sdk/index.ts', node: 'src/node/index.ts' },
})
