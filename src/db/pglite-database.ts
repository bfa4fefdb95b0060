// Embedded PostgreSQL (WASM) so `npm start` needs no database service. PGlite is a single
// connection: it queues statements itself, and a transaction holds it exclusively.
import { closeSync, existsSync, fdatasyncSync, fstatSync, openSync } from 'node:fs'
import { mkdir, opendir } from 'node:fs/promises'
import { join } from 'node:path'
import { parse, PGlite, protocol, type Transaction } from '@electric-sql/pglite'
import type { Database, Queryable, QueryResult, StatementOptions } from './database.js'
import { lockDataDir } from './data-dir-lock.js'
import { isSegmentName, WalReserve } from './wal-reserve.js'

type BackendMessage = Awaited<ReturnType<PGlite['execProtocolStream']>>[number]

/** What Parse and Describe told of a named statement: its parameters' types and its row's columns. */
interface Prepared {
  text: string
  parameterTypes: number[]
  /** The RowDescription, put before each execution's rows (absent for a statement without rows). */
  row: BackendMessage[]
}

/**
 * A name the backend no longer has (a DEALLOCATE ran), or whose row a migration changed (a column's
 * type): both fail at Bind, before the statement runs, so it is parsed again and, outside a
 * transaction (which the failure aborted), run again at once.
 */
function stale (error: unknown): boolean {
  const { code, message } = error as { code?: string, message?: string }
  return code === '26000' || (code === '0A000' && message === 'cached plan must not change result type')
}

const { serialize } = protocol

interface Rows { rows: unknown[], affectedRows?: number }
type RunNamed = (sql: string, params: unknown[], name: string, tx?: Transaction) => Promise<Rows>

/**
 * Named statements on PGlite, whose query() parses and plans every statement again and
 * has no names: a named statement is parsed (and described) once per PGlite instance with the wire
 * protocol's Parse, then run by name with Bind, Execute and Sync in one message. The names live in
 * the backend's session, which is the instance's: a new instance (a reopened folder) starts with
 * none, and the map that remembers them goes with the instance. PostgreSQL re-plans a statement
 * whose tables a migration changed; a name it no longer has, or whose row changed type, is
 * forgotten and parsed again on its next run.
 */
function namedStatements (pglite: PGlite): RunNamed {
  const prepared = new Map<string, Prepared>()
  const prepare = async (name: string, text: string): Promise<Prepared> => {
    // Close first: a name forgotten here may still be the backend's (closing a missing one is no error).
    const messages = await pglite.execProtocolStream(Buffer.concat([
      serialize.close({ type: 'S', name }),
      serialize.parse({ name, text }),
      serialize.describe({ type: 'S', name }),
      serialize.sync()
    ]), { syncToFs: false })
    const statement: Prepared = {
      text,
      parameterTypes: parse.parseDescribeStatementResults(messages),
      row: messages.filter(message => message.name === 'rowDescription')
    }
    prepared.set(name, statement)
    return statement
  }
  const run = async (
    sql: string, params: unknown[], name: string, inTransaction: boolean, retry = !inTransaction
  ): Promise<Rows> => {
    let statement = prepared.get(name)
    if (statement !== undefined && statement.text !== sql) {
      throw new Error(`Statement name ${name} is already used by another statement text`)
    }
    statement ??= await prepare(name, sql)
    // As query() turns a parameter into text: by its type's serializer, or its string.
    const values = params.map((param, i) => {
      if (param === null || param === undefined) return null
      const serializer = pglite.serializers[statement.parameterTypes[i]!]
      return serializer === undefined ? String(param) : serializer(param)
    })
    let messages: BackendMessage[]
    try {
      messages = await pglite.execProtocolStream(Buffer.concat([
        serialize.bind({ statement: name, values }),
        serialize.execute({}),
        serialize.sync()
      ]), { syncToFs: !inTransaction })
    } catch (error) {
      if (!stale(error)) throw error
      prepared.delete(name)
      if (!retry) throw error
      return await run(sql, params, name, inTransaction, false)
    }
    return parse.parseResults([...statement.row, ...messages], pglite.parsers)[0]!
  }
  return async (sql, params, name, tx) => {
    if (tx !== undefined) {
      if (tx.closed) throw new Error('Transaction is closed')
      // Inside the transaction, which holds the transaction lock: only the statement lock, as tx.query takes.
      return await pglite._runExclusiveQuery(async () => await run(sql, params, name, true))
    }
    await pglite._checkReady()
    return await pglite._runExclusiveTransaction(async () =>
      await pglite._runExclusiveQuery(async () => await run(sql, params, name, false)))
  }
}

function wrap (pglite: PGlite | Transaction, runNamed: RunNamed): Queryable {
  const tx = pglite instanceof PGlite ? undefined : pglite
  return {
    async query<R> (sql: string, params?: unknown[], options?: StatementOptions): Promise<QueryResult<R>> {
      const result = options?.name === undefined
        ? await pglite.query<R>(sql, params)
        : await runNamed(sql, params ?? [], options.name, tx) as Rows & { rows: R[] }
      // pg's rowCount: the rows a SELECT returned, or a write changed. PGlite's affectedRows is 0 for
      // a SELECT (and the statement-timing log line's row count read it).
      return { rows: result.rows, rowCount: result.rows.length > 0 ? result.rows.length : result.affectedRows ?? 0 }
    },
    async exec (sql: string) {
      await pglite.exec(sql)
    }
  }
}

/**
 * A commit acknowledged is a commit on disk, as PostgreSQL promises. PGlite starts PostgreSQL with
 * fsync off (-F), and its Node file system (Emscripten's NODEFS) has no fsync of its own: a turn's
 * 200 went out with its commit in the page cache only, and a power loss could lose every turn since
 * and tear the folder. PostgreSQL here runs with fsync on and flushes its write-ahead log with
 * fsync() (wal_sync_method=fsync: Emscripten makes fdatasync() a no-op but passes fsync() to the
 * file system's fsync), and NODEFS is given one that flushes the real file (or folder): every
 * commit's WAL before the commit returns, and every data file a checkpoint relies on.
 */
const DURABLE_START_PARAMS = [
  ...PGlite.defaultStartParams.filter(param => param !== '-F'),
  '-c', 'wal_sync_method=fsync'
]

/** A file or folder of Emscripten's file system: one object per path, shared by its open streams. */
interface FsNode { name: string, parent: FsNode }
interface NodeFsStream { nfd?: number, node: FsNode }
interface SizeChange { size?: number }
interface EmscriptenNodeFs {
  stream_ops: {
    fsync?: (stream: NodeFsStream) => number
    llseek: (stream: NodeFsStream, offset: number, whence: number) => number
    write: (stream: NodeFsStream, buffer: unknown, offset: number, length: number, position: number) => number
    setattr: (stream: NodeFsStream, change: SizeChange) => void
  }
  node_ops: { setattr: (node: FsNode, change: SizeChange) => void }
  realPath: (node: FsNode) => string
}

const nodeFsOf = (pglite: PGlite): EmscriptenNodeFs =>
  (pglite as unknown as { mod: { NODEFS: EmscriptenNodeFs } }).mod.NODEFS

function flushToDisk (nodefs: EmscriptenNodeFs): void {
  nodefs.stream_ops.fsync = stream => {
    // A folder (PostgreSQL flushes pg_wal after it adds a segment) has no descriptor in NODEFS.
    if (stream.nfd !== undefined) fdatasyncSync(stream.nfd)
    else flushPath(nodefs.realPath(stream.node))
    return 0
  }
}

const SEEK_SET = 0
const SEEK_END = 2

/**
 * PostgreSQL learns a relation's length by seeking to its end (the planner does, for every table
 * and index of every statement it plans), and NODEFS answers each seek with an fstat() system
 * call: 7 % of an embedded turn's main-thread CPU (bench/README.md). This process owns the folder
 * (the lock) and every write, truncation and fallocate of PostgreSQL's goes through these NODEFS
 * operations, so a file's length, read once, is kept up to date here instead. A node is a path's
 * one object in Emscripten's file system: a file deleted while still open keeps its own.
 */
function rememberFileSizes (nodefs: EmscriptenNodeFs): void {
  const sizes = new WeakMap<FsNode, number>()
  const { llseek, write, setattr } = nodefs.stream_ops
  const setNodeAttr = nodefs.node_ops.setattr
  nodefs.stream_ops.llseek = (stream, offset, whence) => {
    if (whence !== SEEK_END || stream.nfd === undefined) return llseek(stream, offset, whence)
    let size = sizes.get(stream.node)
    if (size === undefined) {
      size = fstatSync(stream.nfd).size
      sizes.set(stream.node, size)
    }
    return llseek(stream, offset + size, SEEK_SET)
  }
  nodefs.stream_ops.write = (stream, buffer, offset, length, position) => {
    let written: number
    try {
      written = write(stream, buffer, offset, length, position)
    } catch (error) {
      // What reached the file is not known: the length is read again.
      sizes.delete(stream.node)
      throw error
    }
    const size = sizes.get(stream.node)
    if (size !== undefined && position + written > size) sizes.set(stream.node, position + written)
    return written
  }
  // A truncation or fallocate (Emscripten's is ftruncate), by descriptor or by path.
  nodefs.stream_ops.setattr = (stream, change) => {
    sizes.delete(stream.node)
    setattr(stream, change)
  }
  nodefs.node_ops.setattr = (node, change) => {
    sizes.delete(node)
    setNodeAttr(node, change)
  }
}

/** Tells the reserve which segment of the write-ahead log PostgreSQL writes to. */
function followWalSegments (nodefs: EmscriptenNodeFs, reserve: WalReserve): void {
  const { write } = nodefs.stream_ops
  nodefs.stream_ops.write = (stream, buffer, offset, length, position) => {
    const { node } = stream
    if (node.parent.name === 'pg_wal' && isSegmentName(node.name)) reserve.written(node.name)
    return write(stream, buffer, offset, length, position)
  }
}

/** Every file and folder of a database initdb just wrote, flushed once: initdb runs with fsync off. */
async function flushTree (dir: string): Promise<void> {
  for await (const entry of await opendir(dir)) {
    if (entry.isDirectory()) await flushTree(join(dir, entry.name))
    else if (entry.isFile()) flushPath(join(dir, entry.name))
  }
  flushPath(dir)
}

function flushPath (path: string): void {
  const fd = openSync(path, 'r')
  try { fdatasyncSync(fd) } finally { closeSync(fd) }
}

/**
 * Opens (creating if needed) the database in dataDir, which this process then owns until close()
 * (DataDirLockedError if another does); "memory://" keeps it in memory. A new
 * database costs several seconds of initdb; `template` (a dumpDataDir() archive) skips that.
 */
export async function openPGliteDatabase (
  dataDir: string,
  template?: Blob
): Promise<Database & { dumpDataDir: () => Promise<Blob> }> {
  let unlock = async (): Promise<void> => {}
  const onDisk = !dataDir.startsWith('memory://')
  if (onDisk) {
    await mkdir(dataDir, { recursive: true })
    unlock = await lockDataDir(dataDir)
  }
  const created = onDisk && !existsSync(join(dataDir, 'PG_VERSION'))
  let pglite: PGlite | undefined
  let reserve: WalReserve | undefined
  try {
    pglite = await PGlite.create(dataDir, {
      ...(template === undefined ? {} : { loadDataDir: template }),
      ...(onDisk ? { startParams: DURABLE_START_PARAMS } : {})
    })
    if (onDisk) {
      const nodefs = nodeFsOf(pglite)
      flushToDisk(nodefs)
      rememberFileSizes(nodefs)
      if (created) await flushTree(dataDir)
      const { rows } = await pglite.query<{ bytes: number }>(
        "SELECT pg_size_bytes(current_setting('wal_segment_size'))::float8 AS bytes")
      reserve = new WalReserve(dataDir, rows[0]!.bytes)
      await reserve.clearLeftovers()
      followWalSegments(nodefs, reserve)
    }
  } catch (error) {
    await pglite?.close().catch(() => {})
    await reserve?.close()
    await unlock()
    throw error
  }
  const opened = pglite
  const runNamed = namedStatements(opened)
  const queryable = wrap(opened, runNamed)
  return {
    engine: 'pglite',
    ...queryable,
    transaction: (fn) => opened.transaction(tx => fn(wrap(tx, runNamed))),
    listen: (channel, onNotification) => opened.listen(channel, onNotification).then(unlisten => () => unlisten()),
    close: async () => {
      try {
        await opened.close()
      } finally {
        await reserve?.close()
        await unlock()
      }
    },
    dumpDataDir: () => opened.dumpDataDir('none')
  }
}
