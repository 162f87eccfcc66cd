// Writes the boilerplate of one workspace package (package.json, tsconfig, tsup config, README stub, index).
// Run once per package; existing files are left alone so hand edits survive.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const [dir, description] = process.argv.slice(2)
if (!dir || !description) {
  console.error('usage: node scripts/new-package.mjs <dir> "<description>"')
  process.exit(2)
}
const root = join('packages', dir)
mkdirSync(join(root, 'src'), { recursive: true })

const pkg = {
  name: `@rerank-kit/${dir}`,
  version: '0.0.0',
  description,
  license: 'MIT',
  type: 'module',
  sideEffects: false,
  engines: { node: '>=20.19' },
  exports: {
    '.': {
      '@rerank-kit/source': './src/index.ts',
      import: { types: './dist/index.d.ts', default: './dist/index.js' },
      require: { types: './dist/index.d.cts', default: './dist/index.cjs' },
    },
    './package.json': './package.json',
  },
  main: './dist/index.cjs',
  module: './dist/index.js',
  types: './dist/index.d.cts',
  files: ['dist', 'src', '!src/**/*.test.ts'],
  scripts: { build: 'tsup', 'check:package': 'publint --strict && attw --pack .' },
}
const files = {
  'package.json': `${JSON.stringify(pkg, null, 2)}\n`,
  'tsconfig.json': `${JSON.stringify({ extends: '../../tsconfig.base.json', include: ['src'] }, null, 2)}\n`,
  'tsup.config.ts': "import { packageBuild } from '../../tsup.base'\n\nexport default packageBuild()\n",
  'README.md': `# @rerank-kit/${dir}\n\n${description}\n\nNot implemented yet: this package is a placeholder in the workspace until its issue lands.\n`,
  'src/index.ts': '// Placeholder until this package is implemented.\nexport {}\n',
}
for (const [name, text] of Object.entries(files)) {
  const path = join(root, name)
  if (!existsSync(path)) writeFileSync(path, text)
}
