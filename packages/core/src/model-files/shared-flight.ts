/**
 * Work that concurrent callers in one process share instead of repeating (here: one file download). Each
 * caller can leave on its own signal; the work itself is only aborted when the last caller has left, and that
 * caller's promise settles only after the work has finished cleaning up (so no temp file outlives it).
 */
export type FlightWork<T, E> = (signal: AbortSignal, emit: (event: E) => void) => Promise<T>

export interface JoinOptions<E> {
  signal?: AbortSignal | undefined
  /** Receives the events the work emits from the moment this caller joins. */
  listener?: ((event: E) => void) | undefined
  /** The error a caller that left gets. */
  abortError: () => Error
}

interface Flight<T, E> {
  promise: Promise<T>
  listeners: Set<(event: E) => void>
  controller: AbortController
  waiters: number
}

// Keyed by whatever identifies the work (an absolute file path). Erased types: one map serves every T and E.
const flights = new Map<string, Flight<unknown, unknown>>()

const noop = () => {}

export function joinFlight<T, E>(key: string, work: FlightWork<T, E>, options: JoinOptions<E>): Promise<T> {
  const { signal, listener, abortError } = options
  if (signal?.aborted) return Promise.reject(abortError())
  const flight = (flights.get(key) as Flight<T, E> | undefined) ?? startFlight(key, work)
  flight.waiters++
  if (listener) flight.listeners.add(listener)

  return new Promise<T>((resolve, reject) => {
    let left = false
    const detach = () => {
      left = true
      flight.waiters--
      signal?.removeEventListener('abort', onAbort)
      if (listener) flight.listeners.delete(listener)
    }
    const onAbort = () => {
      detach()
      if (flight.waiters > 0) return reject(abortError())
      // Last one out: later callers must start afresh rather than join work that is being torn down.
      if (flights.get(key) === flight) flights.delete(key)
      flight.controller.abort()
      flight.promise.then(noop, noop).then(() => reject(abortError()))
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    flight.promise.then(
      (value) => {
        if (left) return
        detach()
        resolve(value)
      },
      (error: unknown) => {
        if (left) return
        detach()
        reject(error)
      },
    )
  })
}

function startFlight<T, E>(key: string, work: FlightWork<T, E>): Flight<T, E> {
  const listeners = new Set<(event: E) => void>()
  const controller = new AbortController()
  const emit = (event: E) => {
    for (const listener of listeners) listener(event)
  }
  const flight: Flight<T, E> = { listeners, controller, waiters: 0, promise: Promise.resolve(undefined as T) }
  // Started on a later microtask so the first caller's listener is registered before any event can fire.
  flight.promise = Promise.resolve()
    .then(() => work(controller.signal, emit))
    .finally(() => {
      if (flights.get(key) === flight) flights.delete(key)
    })
  // Callers get the rejection through their own promises; a flight everyone left must not be "unhandled".
  flight.promise.catch(noop)
  flights.set(key, flight as Flight<unknown, unknown>)
  return flight
}
