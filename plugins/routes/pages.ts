// The pages Parley serves itself, built by `npm run build` into dist/web: the conversation console
// (/console), the chat page (/chat) and the widget that puts the chat on a team's own site
// (/widget.js), with their scripts and styles under /assets/. They run under a strict content
// security policy (no inline code, nothing from another origin), so a message written as markup
// could not run even if it ever reached a page as HTML. Only the sites in CHAT_WIDGET_ORIGINS may
// frame the chat page; no one may frame the console, which shows every conversation.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import fastifyStatic from '@fastify/static'
import type { HelmetOptions } from 'helmet'
import Type from 'typebox'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { projectRoot } from '../../src/project.js'
import { withProblems } from '../../src/http/schemas.js'

export const WEB_ROOT = join(projectRoot, 'dist/web')

/** The pages' policy; only who may frame them differs. */
export function pagePolicy (frameAncestors: string[]): Record<string, string[]> {
  return {
    defaultSrc: ["'self'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'", 'data:'],
    connectSrc: ["'self'"],
    frameAncestors,
    baseUri: ["'none'"],
    formAction: ["'self'"]
  }
}

const policyHeader = (directives: Record<string, string[]>): string => Object.entries(directives)
  .map(([name, values]) => `${name.replace(/[A-Z]/g, letter => `-${letter.toLowerCase()}`)} ${values.join(' ')}`)
  .join('; ')

const PageQuery = Type.Object({
  embed: Type.Optional(Type.String({ description: '1: the chat page inside the widget\'s frame (a smaller header)' })),
  user: Type.Optional(Type.String({ maxLength: 128, description: 'The user id the chat sends as user_id' }))
})

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, char => `&#${char.charCodeAt(0)};`)

/** A page with the team's name (PAGES_NAME) for Parley's in its title and application-name, which its script shows. */
export function withPageName (html: string, name: string): string {
  const safe = escapeHtml(name)
  return html
    .replace(/<title>([^<]*)<\/title>/, (_whole, title: string) => `<title>${title.replace('Parley', safe)}</title>`)
    .replace('<meta name="application-name" content="Parley">', `<meta name="application-name" content="${safe}">`)
}

// What a person finds at the server's address: where the pages and the API's description are.
const homePage = (name: string): string => `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${escapeHtml(name)}</title>
  <link rel="icon" href="data:,">
</head>
<body>
  <h1>${escapeHtml(name)}</h1>
  <ul>
    <li><a href="/chat">Chat</a>: talk to the bot</li>
    <li><a href="/console">Console</a>: find a conversation, its trace and its log lines
      (an admin or analyst key signs in)</li>
    <li><a href="/docs">API</a>: every route, described (OpenAPI at <a href="/docs/json">/docs/json</a>)</li>
  </ul>
</body>
</html>
`

const pageRoutes: FastifyPluginAsyncTypebox = async function (app) {
  const name = app.config.PAGES_NAME
  // Read once: a page is a few hundred bytes. Missing when only tsc ran; they answer 503 then.
  const read = async (file: string): Promise<string | undefined> =>
    await readFile(join(WEB_ROOT, file), 'utf8').catch(() => undefined)
  const page = async (file: string): Promise<string | undefined> => {
    const html = await read(file)
    return html === undefined ? undefined : withPageName(html, name)
  }
  const files = {
    console: await page('console.html'),
    chat: await page('chat.html'),
    widget: await read('widget.js'),
    home: homePage(name)
  }
  const built = (content: string | undefined): string => {
    if (content === undefined) {
      throw Object.assign(new Error('The pages are not built: run npm run build'), { statusCode: 503 })
    }
    return content
  }
  const widgetOrigins = app.config.CHAT_WIDGET_ORIGINS.split(' ').filter(origin => origin !== '')
  const consoleHeaders = {
    contentSecurityPolicy: { useDefaults: false, directives: pagePolicy(["'none'"]) },
    frameguard: { action: 'deny' }
  } satisfies HelmetOptions
  // X-Frame-Options cannot name other sites; frame-ancestors decides, so it is left out here.
  const chatHeaders = {
    contentSecurityPolicy: { useDefaults: false, directives: pagePolicy(["'self'", ...widgetOrigins]) },
    frameguard: false
  } satisfies HelmetOptions
  const html = Type.String({ description: 'An HTML page' })

  app.get('/', {
    config: { securityHeaders: consoleHeaders },
    schema: {
      tags: ['pages'],
      summary: 'Where the chat page, the console and the API\'s description are, ' +
        'for a person who opens the server\'s address',
      response: withProblems({ 200: html })
    }
  }, async (_request, reply) => await reply.type('text/html; charset=utf-8').send(files.home))

  app.get('/console', {
    config: { securityHeaders: consoleHeaders },
    schema: {
      tags: ['pages'],
      summary: 'The conversation console: find a conversation, see its turns, traces and log lines, and the overview',
      response: withProblems({ 200: html })
    }
  }, async (_request, reply) => await reply.type('text/html; charset=utf-8').send(built(files.console)))

  app.get('/chat', {
    config: { securityHeaders: chatHeaders },
    schema: {
      tags: ['pages'],
      summary: 'The chat page: talk to the bot in a browser; the widget frames it',
      querystring: PageQuery,
      response: withProblems({ 200: html })
    }
  }, async (_request, reply) => await reply.type('text/html; charset=utf-8').send(built(files.chat)))

  app.get('/widget.js', {
    // Loaded by other sites' pages as a script, which a same-origin resource policy would block.
    config: { securityHeaders: { crossOriginResourcePolicy: { policy: 'cross-origin' as const } } },
    schema: {
      tags: ['pages'],
      summary: 'The chat widget: a script a site adds to show a chat button that opens /chat in a frame',
      response: withProblems({ 200: Type.String({ description: 'JavaScript' }) })
    }
  }, async (_request, reply) => {
    // Its URL is fixed on other sites' pages, so it is cached briefly, not for good.
    return await reply
      .type('text/javascript; charset=utf-8')
      .header('cache-control', 'public, max-age=300')
      .send(built(files.widget))
  })

  // Each page names its assets with a hash of their content (?v=), so they can be kept a year.
  const assetPolicy = policyHeader(pagePolicy(["'none'"]))
  await app.register(fastifyStatic, {
    root: join(WEB_ROOT, 'assets'),
    prefix: '/assets/',
    decorateReply: false,
    index: false,
    list: false,
    maxAge: '365d',
    immutable: true,
    setHeaders: (reply) => { reply.header('content-security-policy', assetPolicy) }
  })
}

export default pageRoutes
