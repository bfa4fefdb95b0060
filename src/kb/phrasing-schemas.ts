// A phrasing users type, added to a document's metadata.questions from the API or the console:
// the routes' body and answer, and the console's types.
import Type, { type Static } from 'typebox'
import { NOT_BLANK_NO_NUL } from '../http/schemas.js'
import { DOCUMENT_LIMITS } from './document-files.js'

export const PhrasingBody = Type.Object({
  question: Type.String({
    minLength: 1,
    maxLength: DOCUMENT_LIMITS.titleMax,
    pattern: NOT_BLANK_NO_NUL,
    description: 'The question as users ask it'
  })
}, { additionalProperties: false })
export type PhrasingBodyType = Static<typeof PhrasingBody>

export const PhrasingAdded = Type.Object({
  id: Type.String(),
  questions: Type.Array(Type.String(), { description: 'The document\'s metadata.questions now' }),
  added: Type.Boolean({ description: 'False when the document already had this phrasing' })
})
export type PhrasingAddedType = Static<typeof PhrasingAdded>
