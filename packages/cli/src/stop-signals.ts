/** The signals that ask `serve` to stop. */
export type StopSignal = 'SIGTERM' | 'SIGINT'

export interface StopSignals {
  /** Resolves with the first SIGTERM or SIGINT; the handlers are gone by then (a second one kills as usual). */
  readonly received: Promise<StopSignal>
  /** Removes the handlers if no signal came: the process's default action is back. */
  dispose(): void
}

/**
 * Handlers for SIGTERM and SIGINT, installed when called. `serve` calls it before anything slow starts (the
 * router's config, a model's download and load), so that a stop asked for meanwhile is heard, not ignored.
 */
export function watchStopSignals(): StopSignals {
  let dispose = () => {}
  const received = new Promise<StopSignal>((resolve) => {
    const onTerm = () => {
      dispose()
      resolve('SIGTERM')
    }
    const onInt = () => {
      dispose()
      resolve('SIGINT')
    }
    dispose = () => {
      process.off('SIGTERM', onTerm)
      process.off('SIGINT', onInt)
    }
    process.on('SIGTERM', onTerm)
    process.on('SIGINT', onInt)
  })
  return { received, dispose: () => dispose() }
}
