export { type NodeHttpFetchOptions, nodeHttpFetch } from './node-http-fetch'
