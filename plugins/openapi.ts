// Publishes the OpenAPI description generated from the route schemas: UI at /docs, JSON at /docs/json.
import fp from 'fastify-plugin'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import { ProblemDetails } from '../src/http/schemas.js'
import { packageInfo } from '../src/project.js'

const SWAGGER_LOGO_STYLE_HASH = 'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='

export default fp(async function openApiPlugin (app) {
  app.addSchema(ProblemDetails)
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Parley chatbot API',
        version: packageInfo.version,
        description: 'A chatbot REST API you can see inside. Errors are RFC 9457 problem details.'
      },
      components: {
        securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'A key from API_KEYS' } }
      }
    },
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) => typeof json.$id === 'string' ? json.$id : `def-${i}`
    }
  })
  // staticCSP: the UI's pages carry a policy that admits their own scripts and styles, in place of
  // helmet's. Its logo is an inline SVG whose own <style> (".logo_small_svg__cls-2{fill:#fff}…")
  // the policy refused, an error in every visitor's console: that one style element is admitted by
  // its hash (test/plugins/docs-page.test.ts fails, naming the new hash, if an upgrade changes it).
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    staticCSP: true,
    transformStaticCSP: header =>
      header.replace("style-src 'self' https:", `style-src 'self' https: '${SWAGGER_LOGO_STYLE_HASH}'`)
  })
}, { name: 'openapi' })
