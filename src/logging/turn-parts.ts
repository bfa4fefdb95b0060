// Where a chat turn's time went, as the logging context measures it (log-context.ts:
// measureTurnParts, addTurnTime) and a turn trace keeps it (src/turn-traces/turn-trace.ts, which
// serves this schema as part of its own). Here, beside the measuring, so that src/logging needs
// nothing from src/turn-traces, which logs through src/logging.
import Type, { type Static } from 'typebox'

const partMs = (description: string) => Type.Number({ minimum: 0, description })
/**
 * Where a turn's time went, each part summed over the turn; the rest of its duration is reading the
 * request, writing the reply and waiting for the CPU.
 */
export const TurnPartsSchema = Type.Object({
  admission_ms: partMs('Waiting in line for turn admission (load shedding), before and after the model'),
  database_ms: partMs('In database statements, commits included'),
  search_ms: partMs('Searching the knowledge base'),
  model_ms: partMs('Waiting for the language model to write the answer')
})
export type TurnParts = Static<typeof TurnPartsSchema>
