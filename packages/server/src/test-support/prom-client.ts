/**
 * prom-client for the adapters' tests, resolved from the server package (the adapters do not depend on it):
 * the same module a host app that installs prom-client beside rerank-kit shares with the handler.
 */
export { Counter, Registry } from 'prom-client'
