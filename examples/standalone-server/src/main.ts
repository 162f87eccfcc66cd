// The standalone server arrives with the server issue; until then the start command says so plainly.
console.error('rerank-kit standalone server: not built yet (it arrives with the server package).')
process.exitCode = 1
