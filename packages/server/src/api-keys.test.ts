import { describe, expect, it } from 'vitest'
import { apiKeyMatches, matchingKeyIndex, presentedKey } from './api-keys'

/**
 * A string that counts how often its characters are read. Timing is too noisy to assert on; what makes a
 * comparison constant-time is that its work does not depend on the secret, and that is countable.
 */
class CountingString extends String {
  reads = 0
  override charCodeAt(index: number): number {
    this.reads++
    return super.charCodeAt(index)
  }
}
const counting = (text: string) => new CountingString(text)
const asString = (value: CountingString) => value as unknown as string

describe('presentedKey', () => {
  it('reads a Bearer token, else x-api-key, trimmed', () => {
    expect(presentedKey({ authorization: 'Bearer abc' })).toBe('abc')
    expect(presentedKey({ authorization: '  bearer   abc  ' })).toBe('abc')
    expect(presentedKey({ 'x-api-key': ' abc ' })).toBe('abc')
    expect(presentedKey({ Authorization: 'Bearer abc' })).toBe('abc')
    // Another scheme is not a key: x-api-key is used if present.
    expect(presentedKey({ authorization: 'Basic abc', 'x-api-key': 'def' })).toBe('def')
    expect(presentedKey({ authorization: 'Basic abc' })).toBe('')
    expect(presentedKey({})).toBe('')
  })

  it('reads a bare key in Authorization, as older SDKs (mixedbread-ai 2) send it', () => {
    expect(presentedKey({ authorization: 'abc' })).toBe('abc')
    expect(presentedKey({ authorization: ' abc ', 'x-api-key': 'def' })).toBe('abc')
    // "Bearer" alone is a scheme with no token, not a key named Bearer.
    expect(presentedKey({ authorization: 'Bearer' })).toBe('')
    expect(presentedKey({ authorization: '  ' })).toBe('')
  })
})

describe('apiKeyMatches', () => {
  it('matches only a configured key exactly, never an empty one', () => {
    const keys = ['key-one', 'key-two']
    expect(apiKeyMatches('key-one', keys)).toBe(true)
    expect(apiKeyMatches('key-two', keys)).toBe(true)
    for (const wrong of ['key-on', 'key-one ', 'Key-one', 'key-one\0', 'key-two-', '', 'key']) {
      expect(apiKeyMatches(wrong, keys), JSON.stringify(wrong)).toBe(false)
    }
    expect(apiKeyMatches('', [''])).toBe(false)
    expect(apiKeyMatches('anything', [])).toBe(false)
  })

  it('names which key matched, for per-key budgets', () => {
    expect(matchingKeyIndex('b', ['a', 'b', 'c'])).toBe(1)
    expect(matchingKeyIndex('c', ['a', 'b', 'c'])).toBe(2)
    expect(matchingKeyIndex('d', ['a', 'b', 'c'])).toBe(-1)
    expect(matchingKeyIndex('', ['', 'a'])).toBe(-1)
  })

  it('compares every key in full: no early exit on a match, a length or a first differing character', () => {
    const keyTexts = ['short', 'a-much-longer-key-0123456789', 'medium-key-42']
    const cases = [
      'short', // equals the first key
      'a-much-longer-key-0123456789', // equals the second
      'x', // shorter than every key, differs at once
      'shorT', // right length, differs at the end
      'Xhort', // right length, differs at the start
      'z'.repeat(100), // longer than every key
    ]
    for (const candidateText of cases) {
      const keys = keyTexts.map(counting)
      const candidate = counting(candidateText)
      apiKeyMatches(asString(candidate), keys.map(asString))
      // Each key is read over the longer of the two lengths, whatever the candidate and wherever it differs.
      const expected = keyTexts.map((key) => Math.max(key.length, candidateText.length))
      expect(
        keys.map((key) => key.reads),
        candidateText,
      ).toEqual(expected)
      expect(candidate.reads, candidateText).toBe(expected.reduce((sum, reads) => sum + reads, 0))
    }
  })

  it('does the same work for the right key and a wrong one of the same length', () => {
    const reads = (candidateText: string) => {
      const keys = ['first-secret', 'second-secret'].map(counting)
      const candidate = counting(candidateText)
      matchingKeyIndex(asString(candidate), keys.map(asString))
      return [candidate.reads, ...keys.map((key) => key.reads)]
    }
    expect(reads('first-secret')).toEqual(reads('first-secreT'))
    expect(reads('first-secret')).toEqual(reads('zzzzzzzzzzzz'))
  })
})
