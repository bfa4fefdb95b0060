// Schema errors as a 400 words them: the field and its limit, and a choice among constants as one
// "must be one of …". The issues are what Ajv gave Fastify for these schemas (captured from a run).
import t from 'tap'
import { describeIssues, withUnknownFields, type ValidationIssue } from '../../../src/http/validation-issues.js'

const constant = (path: string, value: string): ValidationIssue =>
  ({ instancePath: path, keyword: 'const', params: { allowedValue: value }, message: 'must be equal to constant' })
const anyOf = (path: string): ValidationIssue =>
  ({ instancePath: path, keyword: 'anyOf', params: {}, message: 'must match a schema in anyOf' })

t.test('a union of literals: one message naming the values', async t => {
  t.same(describeIssues('querystring', [constant('/period', 'hour'), constant('/period', 'day'), anyOf('/period')]),
    [{ field: 'querystring/period', message: 'must be one of hour, day' }])
})

t.test('a union with another kind of branch keeps each issue as Ajv said it', async t => {
  const issues: ValidationIssue[] = [
    constant('/k', 'all'),
    { instancePath: '/k', keyword: 'type', params: { type: 'integer' }, message: 'must be integer' },
    anyOf('/k')
  ]
  t.same(describeIssues('querystring', issues).map(issue => issue.message),
    ['must be equal to constant', 'must be integer', 'must match a schema in anyOf'])
})

t.test('limits, required and unknown fields, enums and patterns', async t => {
  t.same(describeIssues('body', [
    { instancePath: '/message', keyword: 'maxLength', params: { limit: 4000 }, message: 'must NOT have more than 4000 characters' },
    { instancePath: '/message', keyword: 'minLength', params: { limit: 1 }, message: 'must NOT have fewer than 1 characters' },
    { instancePath: '/name', keyword: 'minLength', params: { limit: 3 }, message: 'must NOT have fewer than 3 characters' },
    { instancePath: '', keyword: 'required', params: { missingProperty: 'message' }, message: 'must have required property' },
    { instancePath: '', keyword: 'additionalProperties', params: { additionalProperty: 'admin' } },
    { instancePath: '/bucket', keyword: 'enum', params: { allowedValues: ['hour', 'day'] } },
    { instancePath: '/x', keyword: 'custom', params: {} }
  ]), [
    { field: 'body/message', message: 'must NOT have more than 4000 characters' },
    { field: 'body/message', message: 'must not be empty' },
    { field: 'body/name', message: 'must NOT have fewer than 3 characters' },
    { field: 'body/message', message: 'is required' },
    { field: 'body/admin', message: 'is not an allowed field' },
    { field: 'body/bucket', message: 'must be one of hour, day' },
    { field: 'body/x', message: 'is invalid' }
  ])
})

t.test('a query parameter that takes one value, given twice, is said once as such', async t => {
  const given = ['answer', 'no_answer']
  t.same(describeIssues('querystring', [
    { ...constant('/kind', 'answer'), data: given },
    { ...constant('/kind', 'no_answer'), data: given },
    { ...anyOf('/kind'), data: given },
    { instancePath: '/limit', keyword: 'type', params: { type: 'integer' }, message: 'must be integer', data: ['2', '3', '4'] },
    { instancePath: '/tags/0', keyword: 'type', params: { type: 'string' }, message: 'must be string', data: [1] }
  ]), [
    { field: 'querystring/kind', message: 'must be given once, not 2 times' },
    { field: 'querystring/limit', message: 'must be given once, not 3 times' },
    { field: 'querystring/tags/0', message: 'must be string' }
  ])
  t.same(describeIssues('body', [{ instancePath: '/limit', keyword: 'type', params: { type: 'integer' }, message: 'must be integer', data: [2, 3] }]),
    [{ field: 'body/limit', message: 'must be integer' }], 'a JSON body\'s list is a value the caller wrote')
})

t.test('beside a missing field, the fields its object may not have are named first', async t => {
  const document = { type: 'object', properties: { id: {}, title: {}, text: {} }, required: ['id', 'text'], additionalProperties: false }
  const schema = { type: 'object', properties: { documents: { type: 'array', items: document } }, additionalProperties: false }
  const missing = (path: string, name: string): ValidationIssue =>
    ({ instancePath: path, keyword: 'required', params: { missingProperty: name }, message: `must have required property '${name}'` })
  const body = { documents: [{ id: 'a', text: 'x' }, { id: 'b', txet: 'y', title: 'B', 'a/b': 1 }] }
  t.same(describeIssues('body', withUnknownFields([missing('/documents/1', 'text')], body, schema)), [
    { field: 'body/documents/1/txet', message: 'is not an allowed field' },
    { field: 'body/documents/1/a/b', message: 'is not an allowed field' },
    { field: 'body/documents/1/text', message: 'is required' }
  ], 'through an array, by its item schema')
  t.same(withUnknownFields([missing('', 'documents')], { docs: [] }, schema).map(issue => issue.params),
    [{ additionalProperty: 'docs' }, { missingProperty: 'documents' }], 'at the top')
  const open = { ...schema, additionalProperties: true }
  t.same(withUnknownFields([missing('', 'documents')], { docs: [] }, open), [missing('', 'documents')], 'none where other fields are allowed')
  const type: ValidationIssue = { instancePath: '/documents', keyword: 'type', params: { type: 'array' }, message: 'must be array' }
  t.same(withUnknownFields([type], { documents: 1, extra: 1 }, schema), [type], 'none beside an issue of another kind')
  t.same(withUnknownFields([missing('/documents/0', 'id')], { documents: ['a'] }, schema), [missing('/documents/0', 'id')],
    'none where the value is not an object')
})
