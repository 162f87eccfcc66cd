import type { Reporter, SerializedError, TestModule } from 'vitest/node'

/**
 * Prints the plain closing line CI reads ("N passed, N failed, N skipped"), after vitest's own summary.
 * Only tests marked skip count as skipped; a test that never ran (its file crashed) and every unhandled
 * error count as failures.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(
    testModules: ReadonlyArray<TestModule>,
    unhandledErrors: ReadonlyArray<SerializedError>,
  ): void {
    const counts = { passed: 0, failed: unhandledErrors.length, skipped: 0 }
    for (const testModule of testModules) {
      const tests = [...testModule.children.allTests()]
      for (const test of tests) {
        const state = test.result().state
        if (state === 'passed') counts.passed++
        else if (state === 'skipped') counts.skipped++
        else counts.failed++
      }
      if (testModule.state() === 'failed' && tests.length === 0) counts.failed++
    }
    process.stdout.write(`\n${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`)
  }
}
