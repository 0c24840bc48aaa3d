// A worker thread of runRenas({ jobs > 1 }): opens the plan's benchmarks from their uri and
// its own tfjs backend, rebuilds the plan's cells, then runs the cells it is sent one at a
// time and posts each row back (the main thread writes results.jsonl and the report).
import { parentPort, workerData } from 'node:worker_threads'
import { openBench } from '../bench/open'
import { initTfBackend } from '../models/backend'
import { planCells, type RenasWorkerMessage, type RenasWorkerPlan } from './renas'

if (parentPort === null) throw new Error('renas-worker: must run as a worker thread of runRenas')
const port = parentPort
const post = (m: RenasWorkerMessage): void => port.postMessage(m)

async function start (): Promise<void> {
  const spec = workerData as RenasWorkerPlan
  const [bench101, bench201] = await Promise.all([spec.bench101, spec.bench201].map(async uri => uri === undefined ? undefined : await openBench(uri)))
  const { tf } = await initTfBackend({ backend: spec.backend })
  const { cells, scatter } = planCells({ ...spec, bench101, bench201, tf })
  const byId = new Map(cells.map(c => [c.id, c]))
  port.on('message', (id: string) => {
    const cell = byId.get(id)
    if (cell === undefined) { post({ kind: 'failed', id, message: 'not a cell of this plan' }); return }
    scatter.clear()
    cell.run().then(row => post({ kind: 'done', id, row, scatter: [...scatter] }), (err: Error) => post({ kind: 'failed', id, message: err?.stack ?? String(err) }))
  })
  post({ kind: 'ready' })
}

start().catch((err: Error) => post({ kind: 'failed', id: null, message: err?.stack ?? String(err) }))
