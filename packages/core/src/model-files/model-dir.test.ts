import { describe, expect, it } from 'vitest'
import { servedNameOf } from './model-dir'

describe('servedNameOf', () => {
  it('keeps hub ids and given names, and names folders by their own name', () => {
    expect(servedNameOf({ model: 'Xenova/ms-marco-MiniLM-L-6-v2' })).toBe('Xenova/ms-marco-MiniLM-L-6-v2')
    expect(servedNameOf({ model: 'bge-reranker' })).toBe('bge-reranker')
    expect(servedNameOf({ model: '/srv/models/tiny', name: 'tiny-v1' })).toBe('tiny-v1')
    expect(servedNameOf({ model: '/srv/models/tiny' })).toBe('tiny')
    expect(servedNameOf({ model: '/srv/models/tiny/' })).toBe('tiny')
    expect(servedNameOf({ model: './tiny' })).toBe('tiny')
    expect(servedNameOf({ model: '../models/tiny/.' })).toBe('tiny')
    expect(servedNameOf({ model: 'fixtures/models/tiny-bert-reranker' })).toBe('tiny-bert-reranker')
  })
})
