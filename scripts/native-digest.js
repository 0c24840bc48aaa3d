#!/usr/bin/env node
'use strict'
// The digest of everything that determines the compiled addon: native sources and the
// two build descriptions. It is compiled into the addon (NASRANK_SOURCE_DIGEST) and
// recomputed by the loader, so a binary built from other sources is refused, not used.
const fs = require('fs')
const path = require('path')
const crypto = require('crypto')

const SOURCE_EXTENSIONS = new Set(['.cc', '.h', '.cu', '.cuh'])

function listSources (dir, root, out) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) listSources(full, root, out)
    else if (SOURCE_EXTENSIONS.has(path.extname(entry.name))) out.push(path.relative(root, full))
  }
  return out
}

function nativeDigest (root) {
  const files = listSources(path.join(root, 'native'), root, []).concat(['binding.gyp', 'CMakeLists.txt'])
  files.sort()
  const hash = crypto.createHash('sha256')
  for (const rel of files) {
    // Normalise line endings so a checkout with CRLF does not change the digest.
    const text = fs.readFileSync(path.join(root, rel), 'utf8').replace(/\r\n/g, '\n')
    hash.update(rel.split(path.sep).join('/') + '\0' + text + '\0')
  }
  return hash.digest('hex').slice(0, 16)
}

module.exports = { nativeDigest }

if (require.main === module) process.stdout.write(nativeDigest(path.join(__dirname, '..')))
