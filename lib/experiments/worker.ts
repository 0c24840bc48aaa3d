// A worker thread of workerExecutor (and of a grid worker, queue.ts): rebuilds an experiment's
// cells from its serialisable spec (module + plan data), then runs the cells it is sent one
// at a time and posts each row back. The parent writes results.jsonl (or the queue the row).
import { createHash } from 'node:crypto'
import { parentPort, workerData } from 'node:worker_threads'
import { experimentModulePath, type Cell, type ExperimentSpec, type LoadCells, type WorkerData, type WorkerMessage, type WorkerRequest } from './executors'
import { stableJson } from './provenance'

if (parentPort === null) throw new Error('experiments/worker: must run as a worker thread of workerExecutor')
const port = parentPort
const post = (m: WorkerMessage): void => port.postMessage(m)

async function load (spec: ExperimentSpec): Promise<Map<string, Cell>> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(experimentModulePath(spec.module)) as { loadCells?: LoadCells }
  if (typeof mod.loadCells !== 'function') throw new Error(`experiment module ${spec.module} exports no loadCells(data)`)
  const cells = await mod.loadCells(spec.data)
  return new Map(cells.map(c => [c.id, c]))
}

/** The cells of the specs requests carried, the most recent few (a grid worker moves between experiments). */
const loaded = new Map<string, Promise<Map<string, Cell>>>()
const KEEP = 2

function cellsOf (spec: ExperimentSpec): Promise<Map<string, Cell>> {
  const key = createHash('sha256').update(stableJson(spec)).digest('hex')
  let cells = loaded.get(key)
  if (cells === undefined) {
    cells = load(spec)
    cells.catch(() => loaded.delete(key)) // a failed load (e.g. a bench that differs) is tried again next time
    loaded.set(key, cells)
    while (loaded.size > KEEP) loaded.delete(loaded.keys().next().value as string)
  } else { // most recently used last
    loaded.delete(key)
    loaded.set(key, cells)
  }
  return cells
}

async function start (): Promise<void> {
  const { spec } = workerData as WorkerData
  const own = spec !== undefined ? await load(spec) : undefined
  port.on('message', (request: WorkerRequest) => {
    const id = typeof request === 'string' ? request : request.id
    const cells = typeof request === 'string' ? Promise.resolve(own) : cellsOf(request.spec)
    cells.then(byId => {
      const cell = byId?.get(id)
      if (cell === undefined) throw new Error('not a cell of this plan (did a bench change since the run was planned?)')
      return cell.run({ note: text => post({ kind: 'note', id, text }) })
    }).then(row => post({ kind: 'done', id, row }), (err: Error) => post({ kind: 'failed', id, message: err?.stack ?? String(err) }))
  })
  post({ kind: 'ready' })
}

start().catch((err: Error) => post({ kind: 'failed', id: null, message: err?.stack ?? String(err) }))
