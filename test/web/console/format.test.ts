import t from 'tap'
import { axisTimes, ms, percent, timeZoneOf, usd, userLabel, webLink } from '../../../web/console/format.js'

t.test('a user by the id the client sent, else the pseudonym', async t => {
  t.equal(userLabel({ id: 'jane', pseudonym: 'u_0123456789abcdef' }), 'jane')
  t.equal(userLabel({ id: null, pseudonym: 'u_0123456789abcdef' }), 'u_0123456789abcdef')
  t.equal(userLabel({ pseudonym: 'u_0123456789abcdef' }), 'u_0123456789abcdef', 'an analyst is not sent the id')
  t.equal(userLabel({ pseudonym: null }), '—')
})

t.test('durations, shares and costs', async t => {
  t.equal(ms(12.34), '12.3 ms')
  t.equal(ms(340.4), '340 ms')
  t.equal(ms(12_345), '12.3 s')
  t.equal(ms(null), '—')
  t.equal(percent(0.5), '50.0 %')
  t.equal(usd(0.0012), '$0.0012')
  t.equal(usd(1.5), '$1.50')
})

t.test('only web addresses are links', async t => {
  t.equal(webLink('https://jaeger.example/trace/1'), 'https://jaeger.example/trace/1')
  t.equal(webLink('javascript:alert(1)'), undefined)
  t.equal(webLink(null), undefined)
})

t.test('a chart\'s time axis in the console\'s own dates: the day, or the time with the day where it starts', async t => {
  const at = Date.parse('2026-11-26T20:00:00') / 1000 // local time, as the console writes it
  t.same(axisTimes([at, at + 86_400]), ['2026-11-26', '2026-11-27'], 'a day apart: the date')
  t.same(axisTimes([at, at + 3 * 3600, at + 6 * 3600]), ['20:00\n2026-11-26', '23:00', '02:00\n2026-11-27'],
    'hours apart: the time, the date under the first and under the first of a new day')
})

t.test('the time zone the console writes its times in, named as the browser names it', async t => {
  const zone = process.env.TZ
  t.teardown(() => { if (zone === undefined) delete process.env.TZ; else process.env.TZ = zone })
  process.env.TZ = 'Europe/Paris'
  t.equal(timeZoneOf('2026-11-29T06:00:00Z'), 'GMT+1')
  t.equal(timeZoneOf('2026-07-01T06:00:00Z'), 'GMT+2', 'summer time where the time falls in it')
  process.env.TZ = 'UTC'
  t.equal(timeZoneOf('2026-11-29T06:00:00Z'), 'UTC')
})
