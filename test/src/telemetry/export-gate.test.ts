// The gate that keeps telemetry from being made for a collector that does not take it.
import t from 'tap'
import { ExportGate } from '../../../src/telemetry/export-gate.js'

function gateAt () {
  let now = 0
  const gate = new ExportGate({ probeIntervalMs: 1000, now: () => now })
  return { gate, advance: (ms: number) => { now += ms } }
}

t.test('open until an export fails; then shut, but for one probe per interval', async t => {
  const { gate, advance } = gateAt()
  t.ok(gate.open() && gate.open() && gate.up, 'open before any export ended')
  gate.settled(true)
  t.ok(gate.open(), 'and while exports succeed')
  gate.settled(false)
  t.notOk(gate.up)
  t.notOk(gate.open(), 'shut at a failure')
  advance(999)
  t.notOk(gate.open(), 'until the probe interval has passed')
  advance(1)
  t.ok(gate.open(), 'then one item goes through')
  t.notOk(gate.open(), 'and only one, while its export is pending')
  advance(5000)
  t.notOk(gate.open(), 'however long it takes')
  gate.settled(false)
  t.notOk(gate.open(), 'a failed probe waits another interval')
  advance(1000)
  t.ok(gate.open(), 'for the next probe')
  gate.settled(true)
  t.ok(gate.up && gate.open() && gate.open(), 'a probe that reached the collector opens the gate')
})

t.test('a failure of an export made before the probe restarts the interval; any success opens', async t => {
  const { gate, advance } = gateAt()
  gate.settled(false)
  advance(1000)
  t.ok(gate.open(), 'a probe')
  advance(300)
  gate.settled(false) // an older batch, still being retried when the gate shut
  advance(900)
  t.notOk(gate.open(), 'the next probe counts from the latest failure')
  advance(100)
  t.ok(gate.open())
  gate.settled(true)
  t.ok(gate.up, 'up again')
})
