// Builds the in-memory search index from the database at start (seeding the bundled docs on a
// new database) and keeps it current, including changes made by other instances.
import fp from 'fastify-plugin'
import { SearchEngine } from '../src/search/search-engine.js'
import { KnowledgeBase } from '../src/kb/knowledge-base.js'
import { readDocuments, type DocumentInput } from '../src/kb/document-files.js'
import { log } from '../src/logging/log-context.js'

declare module 'fastify' {
  interface FastifyInstance {
    searchEngine: SearchEngine
    knowledgeBase: KnowledgeBase
  }
}

export default fp(async function knowledgeBasePlugin (app) {
  const { SEARCH_WORD_VECTORS: wordVectors, SEARCH_SPELLING: spelling } = app.config
  const searchEngine = new SearchEngine({ wordVectors, spelling })
  const knowledgeBase = new KnowledgeBase({ db: app.db, searchEngine, auditTrail: app.auditTrail, now: app.clock })
  app.decorate('searchEngine', searchEngine)
  app.decorate('knowledgeBase', knowledgeBase)

  const seedDir = app.config.KB_SEED_DIR
  if (seedDir !== '') {
    const seeded = await knowledgeBase.seedOnce(async () => {
      const documents: DocumentInput[] = []
      for await (const result of readDocuments(seedDir)) {
        if ('document' in result) {
          documents.push(result.document)
        } else {
          const reason = 'error' in result ? result.error : result.skipped
          log('search_engine', 'seed', app.log).warn({ source: result.source, reason }, 'bundled document skipped')
        }
      }
      return documents
    })
    if (seeded > 0) {
      log('search_engine', 'seed', app.log)
        .info({ documents: seeded, from: seedDir }, 'knowledge base seeded with the bundled docs')
    }
  }
  // Only a shared server database has other instances to hear from; listen before loading so
  // nothing committed meanwhile is missed.
  if (app.db.engine === 'postgres') {
    const stopFollowing = await knowledgeBase.followChanges(error => log('search_engine', 'followChanges', app.log)
      .error({ err: error }, 'search index update from another instance failed'))
    app.addHook('onClose', async () => await stopFollowing())
  }
  const started = performance.now()
  const documents = await knowledgeBase.loadIndex()
  const ms = Math.round(performance.now() - started)
  const passages = searchEngine.passageCount
  log('search_engine', 'loadIndex', app.log).info({ documents, passages, ms }, 'search index built')
}, { name: 'knowledge-base', dependencies: ['config', 'database'] })
