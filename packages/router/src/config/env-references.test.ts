import { describe, expect, it } from 'vitest'
import { resolveEnvReferences } from './env-references'
import { RouterConfigError } from './router-config-error'

describe('resolveEnvReferences', () => {
  it('resolves references anywhere in the tree and leaves the input alone', () => {
    const tree = {
      model_list: [
        { litellm_params: { api_key: 'os.environ/KEY', rpm: 10, tags: ['os.environ/TAG', 'plain'] } },
      ],
      note: 'see os.environ/KEY',
      empty: null,
    }
    const resolved = resolveEnvReferences(tree, { KEY: 'k-1', TAG: 'blue' })
    expect(resolved).toEqual({
      model_list: [{ litellm_params: { api_key: 'k-1', rpm: 10, tags: ['blue', 'plain'] } }],
      note: 'see os.environ/KEY',
      empty: null,
    })
    expect(tree.model_list[0]?.litellm_params.api_key).toBe('os.environ/KEY')
  })

  it('lists every missing or empty variable by path and name, never a value', () => {
    const run = () =>
      resolveEnvReferences(
        {
          a: ['os.environ/MISSING'],
          b: { c: 'os.environ/EMPTY', d: 'os.environ/SET', e: 'os.environ/not valid' },
        },
        { EMPTY: '', SET: 'value-that-must-not-leak' },
      )
    expect(run).toThrowError(RouterConfigError)
    try {
      run()
    } catch (error) {
      const configError = error as RouterConfigError
      expect(configError.issues).toEqual([
        { path: 'a[0]', message: 'environment variable MISSING is not set' },
        { path: 'b.c', message: 'environment variable EMPTY is empty' },
        { path: 'b.e', message: 'invalid environment reference: expected os.environ/NAME' },
      ])
      expect(configError.message).not.toContain('value-that-must-not-leak')
    }
  })

  it('prefixes paths with the base path', () => {
    expect(() => resolveEnvReferences({ key: 'os.environ/NOPE' }, {}, ['router_settings'])).toThrowError(
      'Invalid router config: router_settings.key: environment variable NOPE is not set',
    )
  })

  it('keeps a __proto__ key as data', () => {
    const tree = JSON.parse('{"__proto__": {"polluted": "os.environ/X"}}') as Record<string, unknown>
    const resolved = resolveEnvReferences(tree, { X: 'yes' })
    expect(Object.hasOwn(resolved, '__proto__')).toBe(true)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })
})
