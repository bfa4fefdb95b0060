// Publishes the OpenAPI description generated from the route schemas: UI at /docs, JSON at /docs/json.
import fp from 'fastify-plugin'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import { ProblemDetails } from '../src/http/schemas.js'
import { packageInfo } from '../src/project.js'

export default fp(async function openApiPlugin (app) {
  app.addSchema(ProblemDetails)
  await app.register(swagger, {
    openapi: {
      info: { title: 'Parley chatbot API', version: packageInfo.version, description: 'A chatbot REST API you can see inside. Errors are RFC 9457 problem details.' },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'A key from API_KEYS' } } }
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => typeof json.$id === 'string' ? json.$id : `def-${i}` }
  })
  // staticCSP: the UI's pages carry a policy that admits their own scripts and styles, in place of helmet's.
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true })
}, { name: 'openapi' })
