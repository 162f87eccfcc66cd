// Child process of the HTTP benchmark: one framework's app, so load generation runs in another process.
import { type Framework, startApp } from './bench-apps'

const port = await startApp(process.argv[2] as Framework)
console.log(`PORT ${port}`)
