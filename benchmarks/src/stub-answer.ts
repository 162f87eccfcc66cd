/** Documents per benchmark request, and so results in the stub's fixed answer. */
export const stubDocuments = 10

/** A valid native-format rerank answer for `stubDocuments` documents, scores descending. */
export const stubAnswer = JSON.stringify({
  model: 'stub',
  results: Array.from({ length: stubDocuments }, (_, index) => ({
    index,
    relevance_score: 1 - index / stubDocuments,
  })),
})
