// A worker thread of workerExecutor: rebuilds the experiment's cells from its serialisable
// spec (module + plan data), then runs the cells it is sent one at a time and posts each
// row back. The main thread writes results.jsonl and the report.
import { parentPort, workerData } from 'node:worker_threads'
import { experimentModulePath, type LoadCells, type WorkerData, type WorkerMessage } from './executors'

if (parentPort === null) throw new Error('experiments/worker: must run as a worker thread of workerExecutor')
const port = parentPort
const post = (m: WorkerMessage): void => port.postMessage(m)

async function start (): Promise<void> {
  const { spec } = workerData as WorkerData
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(experimentModulePath(spec.module)) as { loadCells?: LoadCells }
  if (typeof mod.loadCells !== 'function') throw new Error(`experiment module ${spec.module} exports no loadCells(data)`)
  const cells = await mod.loadCells(spec.data)
  const byId = new Map(cells.map(c => [c.id, c]))
  port.on('message', (id: string) => {
    const cell = byId.get(id)
    if (cell === undefined) { post({ kind: 'failed', id, message: 'not a cell of this plan (did a bench change since the run was planned?)' }); return }
    cell.run({ note: text => post({ kind: 'note', id, text }) }).then(row => post({ kind: 'done', id, row }), (err: Error) => post({ kind: 'failed', id, message: err?.stack ?? String(err) }))
  })
  post({ kind: 'ready' })
}

start().catch((err: Error) => post({ kind: 'failed', id: null, message: err?.stack ?? String(err) }))
