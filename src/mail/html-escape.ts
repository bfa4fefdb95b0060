// Text made safe inside HTML: alert e-mails and the weekly report carry users' words and error
// messages, which must never become markup.
const HTML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

export const htmlEscape = (text: string): string => text.replace(/[&<>"']/g, c => HTML_ENTITIES[c] ?? c)
