// Knowledge-base administration (admin role): documents in, documents out, and search; and, for
// whoever may chat, the whole of a document a reply named as its source. A phrasing users type can
// be added to a document from the API and, for an admin signed in, from the console's conversation.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { DOCUMENT_LIMITS, metadataProblem } from '../../src/kb/document-files.js'
import { answeringCollections, BUNDLED_COLLECTION } from '../../src/kb/knowledge-base.js'
import { DEFAULT_COLLECTION } from '../../src/search/search-engine.js'
import { SourceSchema, toSource } from '../../src/transcript/transcript-schemas.js'
import { SourceDocument } from '../../src/chat/chat-schemas.js'
import { InvalidFieldError, NotFoundError } from '../../src/errors.js'
import { NOT_BLANK_NO_NUL, NO_NUL, withProblems } from '../../src/http/schemas.js'
import { PhrasingAdded, PhrasingBody } from '../../src/kb/phrasing-schemas.js'
import { scrub } from '../../src/logging/scrubber.js'

// A full batch of 1,000 documents does not fit the 64 KiB default.
const KB_BODY_LIMIT = 16 * 1024 * 1024

const DocumentId = Type.String({
  pattern: DOCUMENT_LIMITS.idPattern,
  description: 'Letters, digits and . _ : -, up to 200 characters'
})
const Collection = Type.String({
  pattern: DOCUMENT_LIMITS.idPattern,
  description: `The collection the document belongs to (default "${DEFAULT_COLLECTION}"); ` +
    `the bundled docs are "${BUNDLED_COLLECTION}"`
})
const DocumentFields = {
  title: Type.String({ minLength: 1, maxLength: DOCUMENT_LIMITS.titleMax, pattern: NOT_BLANK_NO_NUL }),
  text: Type.String({
    minLength: 1,
    maxLength: DOCUMENT_LIMITS.textMax,
    pattern: NOT_BLANK_NO_NUL,
    description: 'Markdown or plain text; split into passages on headings and paragraphs'
  }),
  metadata: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  collection: Type.Optional(Collection)
}
const DocumentBody = Type.Object(DocumentFields, { additionalProperties: false })
const NewDocument = Type.Object({ id: Type.Optional(DocumentId), ...DocumentFields }, { additionalProperties: false })
const DocumentParams = Type.Object({ id: DocumentId })

export const DocumentRecord = Type.Object({
  id: Type.String(),
  title: Type.String(),
  text: Type.String(),
  metadata: Type.Record(Type.String(), Type.Unknown()),
  collection: Type.String(),
  passages: Type.Integer(),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' })
})

const DocumentPut = Type.Object({
  id: Type.String(),
  created: Type.Boolean(),
  moved_from: Type.Optional(Type.String({
    description: 'The collection the replaced document was in, when that was another: its id is now this one\'s'
  }))
})

const DocumentSummaryRecord = Type.Pick(DocumentRecord, ['id', 'title', 'collection', 'created_at', 'updated_at'])
const DocumentListQuery = Type.Object({
  collection: Type.Optional(Type.String({ ...Collection, description: 'Only documents of this collection' })),
  after: Type.Optional(Type.String({ ...DocumentId, description: 'The last id of the previous page (next_after)' })),
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 })
}, { additionalProperties: false })
const DocumentList = Type.Object({
  documents: Type.Array(DocumentSummaryRecord),
  next_after: Type.Union([Type.String(), Type.Null()], { description: 'Pass as `after` for the next page; null: none' })
})
const SearchQuery = Type.Object({
  q: Type.String({ minLength: 1, maxLength: 4000, pattern: NO_NUL }),
  k: Type.Integer({ minimum: 1, maximum: 100, default: 10 }),
  collection: Type.Optional(Type.String({
    ...Collection,
    description: 'Only documents of this collection; without it, the collections the chat answers from'
  }))
}, { additionalProperties: false })

// Depth and size are beyond what a schema states: checked before the document is stored.
function refuseMetadata (metadata: unknown, field: string): void {
  const problem = metadataProblem(metadata)
  if (problem === undefined) return
  // "metadata.questions must …": the path goes in the field, what it must be in the message.
  const [, within = '', message = problem] = /^metadata(?:\.(\w+))? (.*)$/.exec(problem) ?? []
  throw new InvalidFieldError(within === '' ? field : `${field}/${within}`, message)
}

const knowledgeBaseRoutes: FastifyPluginAsyncTypebox = async function (app) {
  const admin = app.requireRole('admin')
  const security = [{ apiKey: [] }]

  // The documents that answer users are theirs to read, those alone: a document of a collection
  // that does not answer now (KB_BUNDLED_DOCS) is not found.
  app.get('/v1/sources/:id', {
    config: { usesDatabase: true },
    onRequest: app.chatAccess,
    schema: {
      tags: ['chat'],
      summary: 'A document a reply named as its source, whole, and where it lives',
      params: DocumentParams,
      response: withProblems({ 200: SourceDocument }, 401, 404)
    }
  }, async request => {
    const { id } = request.params
    const document = await app.knowledgeBase.get(id)
    const answering = answeringCollections(app.searchEngine.collections(), app.config.KB_BUNDLED_DOCS)
    if (answering !== undefined && !answering.has(document.collection)) throw new NotFoundError('document', id)
    const url = document.metadata.url
    return {
      doc_id: document.id,
      title: document.title,
      text: document.text,
      url: typeof url === 'string' && /^https?:\/\//.test(url) ? url : null
    }
  })

  app.post('/v1/kb/documents', {
    config: { usesDatabase: true },
    onRequest: admin,
    bodyLimit: KB_BODY_LIMIT,
    schema: {
      tags: ['knowledge base'],
      summary: 'Add up to 1,000 documents at once; all or none are stored',
      security,
      body: Type.Object({
        documents: Type.Array(NewDocument, { minItems: 1, maxItems: 1000 })
      }, { additionalProperties: false }),
      response: withProblems({ 201: Type.Object({ ids: Type.Array(Type.String()) }) }, 401, 403, 409, 413, 415)
    }
  }, async (request, reply) => {
    request.body.documents.forEach((document, i) => refuseMetadata(document.metadata, `body/documents/${i}/metadata`))
    const ids = await app.knowledgeBase.add(request.body.documents, request.actor)
    return reply.code(201).send({ ids })
  })

  app.get('/v1/kb/documents', {
    config: { usesDatabase: true },
    onRequest: admin,
    schema: {
      tags: ['knowledge base'],
      summary: 'The documents by id, a page at a time, without their text',
      security,
      querystring: DocumentListQuery,
      response: withProblems({ 200: DocumentList }, 401, 403)
    }
  }, async (request) => {
    const { collection, after, limit } = request.query
    // One more than asked says whether there is a next page.
    const found = await app.knowledgeBase.list({ collection, after, limit: limit + 1 })
    const page = found.slice(0, limit)
    return {
      documents: page.map(document => ({
        id: document.id,
        title: document.title,
        collection: document.collection,
        created_at: document.createdAt.toISOString(),
        updated_at: document.updatedAt.toISOString()
      })),
      next_after: found.length > limit ? page.at(-1)!.id : null
    }
  })

  app.get('/v1/kb/documents/:id', {
    config: { usesDatabase: true },
    onRequest: admin,
    schema: {
      tags: ['knowledge base'],
      summary: 'One document',
      security,
      params: DocumentParams,
      response: withProblems({ 200: DocumentRecord }, 401, 403, 404)
    }
  }, async (request) => {
    const document = await app.knowledgeBase.get(request.params.id)
    return { ...document, created_at: document.createdAt.toISOString(), updated_at: document.updatedAt.toISOString() }
  })

  app.put('/v1/kb/documents/:id', {
    config: { usesDatabase: true },
    onRequest: admin,
    bodyLimit: KB_BODY_LIMIT,
    schema: {
      tags: ['knowledge base'],
      summary: 'Create or replace one document',
      security,
      params: DocumentParams,
      body: DocumentBody,
      response: withProblems({
        200: DocumentPut,
        201: DocumentPut
      }, 401, 403, 413, 415)
    }
  }, async (request, reply) => {
    const { id } = request.params
    refuseMetadata(request.body.metadata, 'body/metadata')
    const { created, movedFrom } = await app.knowledgeBase.put(id, request.body, request.actor)
    const moved = movedFrom === undefined ? {} : { moved_from: movedFrom }
    return reply.code(created ? 201 : 200).send({ id, created, ...moved })
  })

  app.delete('/v1/kb/documents/:id', {
    config: { usesDatabase: true },
    onRequest: admin,
    schema: {
      tags: ['knowledge base'],
      summary: 'Delete one document',
      security,
      params: DocumentParams,
      response: withProblems({ 204: Type.Null() }, 401, 403, 404)
    }
  }, async (request, reply) => {
    const { id } = request.params
    if (!await app.knowledgeBase.delete(id, request.actor)) throw new NotFoundError('Document', id)
    return await reply.code(204).send(null)
  })

  app.get('/v1/kb/search', {
    onRequest: admin,
    schema: {
      tags: ['knowledge base'],
      summary: 'Rank documents for a query (BM25 over passages; one row per document, its best passage)',
      security,
      querystring: SearchQuery,
      response: withProblems({ 200: Type.Object({ results: Type.Array(SourceSchema) }) }, 401, 403, 404)
    }
  }, async (request) => {
    const { q, k, collection } = request.query
    // A misspelt collection would read as a search that found nothing.
    const known = app.searchEngine.collections()
    if (collection !== undefined && !known.has(collection)) {
      throw new NotFoundError('Collection', collection, `Collection ${collection} holds no documents; ` +
        `the collections are ${[...known.keys()].sort().join(', ') || 'none yet'}.`)
    }
    // Unscoped, it searches where the chat answers from, and so ranks as a chat turn does.
    const collections = collection === undefined
      ? answeringCollections(known, app.config.KB_BUNDLED_DOCS)
      : new Set([collection])
    return { results: app.searchEngine.search(q, k, collections).map(toSource) }
  })

  // The console shows users' words scrubbed: a phrasing taken from a conversation is kept so.
  const phrasingRoutes = [
    { prefix: '/v1/kb', onRequest: [admin], tag: 'knowledge base', keep: (question: string) => question },
    { prefix: '/console/api/kb', onRequest: [app.consoleAccess, app.consoleAdmin], tag: 'console', keep: scrub }
  ]
  for (const { prefix, onRequest, tag, keep } of phrasingRoutes) {
    app.post(`${prefix}/documents/:id/questions`, {
      config: { usesDatabase: true },
      onRequest,
      schema: {
        tags: [tag],
        summary: 'Add a phrasing users type to a document\'s metadata.questions ' +
          `(up to ${DOCUMENT_LIMITS.questionsMax}); searched with its title`,
        security,
        params: DocumentParams,
        body: PhrasingBody,
        response: withProblems({ 200: PhrasingAdded, 201: PhrasingAdded }, 401, 403, 404, 415)
      }
    }, async (request, reply) => {
      const { questions, added } = await app.knowledgeBase
        .addQuestion(request.params.id, keep(request.body.question), request.actor)
      return reply.code(added ? 201 : 200).send({ id: request.params.id, questions, added })
    })
  }
}

export default knowledgeBaseRoutes
