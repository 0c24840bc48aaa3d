// Locates a file of the read-only shared data (never copied into the repository): env
// NASRANK_SHARED_DATA, then ../shared/data beside the repository root, then /work/shared/data.
import * as fs from 'node:fs'
import * as path from 'node:path'

const repoRoot = path.resolve(__dirname, '..', '..')

export function sharedDataFile (name: string): { file: string | null; tried: string[] } {
  const dirs = [process.env.NASRANK_SHARED_DATA, path.resolve(repoRoot, '..', 'shared', 'data'), '/work/shared/data']
    .filter((d): d is string => typeof d === 'string' && d.length > 0)
  const tried = dirs.map(d => path.join(d, name))
  return { file: tried.find(f => fs.existsSync(f)) ?? null, tried }
}

/** The NB-201 CIFAR-10 CSV as rows { index, arch, accuracy }, or null with the paths tried. */
export function readNb201Csv (): { rows: Array<{ index: number; arch: string; accuracy: number }>; file: string } | { rows: null; tried: string[] } {
  const { file, tried } = sharedDataFile('nb201-cifar10-test.csv')
  if (file === null) return { rows: null, tried }
  const lines = fs.readFileSync(file, 'utf8').split(/\r?\n/).filter(l => l.length > 0)
  const header = lines[0].split(',')
  const ai = header.indexOf('arch'); const ii = header.indexOf('index'); const ti = header.indexOf('test_accuracy')
  if (ai < 0 || ii < 0 || ti < 0) throw new Error(`${file}: unexpected header ${lines[0]}`)
  const rows = lines.slice(1).map(l => {
    const f = l.split(',')
    return { index: Number(f[ii]), arch: f[ai], accuracy: Number(f[ti]) }
  })
  return { rows, file }
}
