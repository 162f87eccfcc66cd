import { packageBuild } from '../../tsup.base'

// The library (runCli, settings, ...) and the bin (package.json `bin`: dist/cli.js, keeping the shebang of
// src/cli.ts) in one build, so `clean` cannot race a second one.
export default packageBuild({ entry: { index: 'src/index.ts', cli: 'src/cli.ts' } })
