import t from 'tap'
import { createLatest } from '../../../web/shared/latest.js'

const deferred = <T>() => {
  let settle!: { resolve: (value: T) => void, reject: (error: unknown) => void }
  const promise = new Promise<T>((resolve, reject) => { settle = { resolve, reject } })
  return { promise, resolve: (value: T) => { settle.resolve(value) }, reject: (error: unknown) => { settle.reject(error) } }
}

t.test('an earlier answer that comes late is dropped', async t => {
  const latest = createLatest()
  const seen: string[] = []
  const day = deferred<string>()
  const week = deferred<string>()
  const first = latest.run(day.promise, value => { seen.push(value) }, () => { seen.push('failed') })
  const second = latest.run(week.promise, value => { seen.push(value) }, () => { seen.push('failed') })
  week.resolve('week')
  day.resolve('day')
  await Promise.all([first, second])
  t.same(seen, ['week'])
})

t.test('so is an earlier failure', async t => {
  const latest = createLatest()
  const seen: unknown[] = []
  const first = deferred<string>()
  const done = latest.run(first.promise, () => {}, error => { seen.push(error) })
  await latest.run(Promise.resolve('second'), value => { seen.push(value) }, () => {})
  first.reject(new Error('late'))
  await done
  t.same(seen, ['second'])
})

t.test('the latest failure is told', async t => {
  const latest = createLatest()
  const error = new Error('down')
  let told: unknown
  await latest.run(Promise.reject(error), () => {}, caught => { told = caught })
  t.equal(told, error)
})

t.test('nothing is told after drop', async t => {
  const latest = createLatest()
  const pending = deferred<string>()
  let told = false
  const done = latest.run(pending.promise, () => { told = true }, () => { told = true })
  latest.drop()
  pending.resolve('too late')
  await done
  t.notOk(told)
})
