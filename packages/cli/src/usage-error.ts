/** The command line itself is wrong (unknown command or flag, missing argument): exit code 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    /** The command whose `--help` to point at. */
    readonly command?: string,
  ) {
    super(message)
    this.name = 'UsageError'
  }
}
