import neostandard from 'neostandard'

export default [
  ...neostandard({
    ts: true,
    ignores: ['dist/**', 'data/**', 'logs/**', 'node_modules/**']
  }),
  {
    // Lines a reader sees whole; a regular expression is left as it is written.
    files: ['src/**/*.ts', 'plugins/**/*.ts', 'otel/**/*.ts', 'web/**/*.ts', 'web/**/*.tsx', 'scripts/**/*.ts'],
    rules: { '@stylistic/max-len': ['error', { code: 120, ignoreRegExpLiterals: true }] }
  }
]
