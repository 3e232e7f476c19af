// Child process of the resume test: starts an upload of a file, remembers
// it in a FileUrlStorage, and exits abruptly once stopAfter bytes are sent.
import { readFileSync } from 'node:fs'
import { Upload, FileUrlStorage } from 'tus-js-client'

const [endpoint, token, file, storage, stopAfter] = process.argv.slice(2)
const upload = new Upload(readFileSync(file), {
  endpoint,
  headers: { Authorization: 'Bearer ' + token },
  chunkSize: 1 << 20,
  urlStorage: new FileUrlStorage(storage),
  metadata: { filename: 'resumed.jpg', filetype: 'image/jpeg' },
  onProgress (sent) {
    if (sent >= Number(stopAfter)) process.exit(0)
  },
  onError (err) {
    console.error(err)
    process.exit(2)
  },
  onSuccess () {
    console.error('finished before it could be interrupted')
    process.exit(3)
  }
})
upload.start()
