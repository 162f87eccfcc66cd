/** What a generated x-request-id looks like (newRequestId): this process's random prefix and a counter. */
export const generatedRequestId = /^[0-9a-f]{16}-[0-9a-z]+$/
