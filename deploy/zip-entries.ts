/**
 * Reads what a zip holds without unpacking it: the entries of its central directory (name, sizes, kind) and, for a
 * few small files, their bytes. The packager checks a package of your own with it before anything registers (an empty
 * zip, a path that climbs out of wwwroot, a credential file); nothing here writes to disk.
 *
 * The layout is PKWARE's APPNOTE.TXT (sections 4.3.12 central directory header, 4.3.16 end of central directory
 * record, 4.3.7 local file header): https://pkware.cachefly.net/webdocs/casestudies/APPNOTE.TXT. Zip64 archives (more
 * than 65,535 entries or 4 GiB) are refused with their own message rather than misread: App Service packages are far
 * smaller.
 */
import { inflateRawSync } from "node:zlib";

/** One entry of a zip's central directory. */
export interface ZipEntry {
  /** The stored name, `/`-separated (a folder ends with `/`). */
  readonly name: string;
  /** True for a folder entry (a name ending in `/`). */
  readonly directory: boolean;
  /** True when the entry is a symbolic link (Unix mode S_IFLNK in the external attributes). */
  readonly symlink: boolean;
  /** The Unix mode in the external attributes (0 when the zip was made elsewhere than on Unix). */
  readonly unixMode: number;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  /** 0 stored, 8 deflated; anything else is not read. */
  readonly method: number;
  /** Where its local file header starts. */
  readonly localHeaderOffset: number;
}

/** A zip this reader cannot read, with what is wrong. */
export class ZipReadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ZipReadError";
  }
}

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const EOCD_MIN = 22;
const MAX_COMMENT = 0xffff;

/** The central directory's entries, in stored order. Throws {@link ZipReadError} when `zip` is not a readable zip. */
export function zipEntries(zip: Buffer): ZipEntry[] {
  const eocd = findEndOfCentralDirectory(zip);
  const count = zip.readUInt16LE(eocd + 10);
  const size = zip.readUInt32LE(eocd + 12);
  const offset = zip.readUInt32LE(eocd + 16);
  if (count === 0xffff || size === 0xffffffff || offset === 0xffffffff) {
    throw new ZipReadError("it is a Zip64 archive, which App Service packages never need to be");
  }
  if (offset + size > eocd) throw new ZipReadError("its central directory lies outside the file (truncated?)");
  const entries: ZipEntry[] = [];
  let at = offset;
  for (let i = 0; i < count; i++) {
    if (at + 46 > zip.length || zip.readUInt32LE(at) !== CENTRAL) {
      throw new ZipReadError(`its central directory is damaged at entry ${i + 1} of ${count}`);
    }
    const method = zip.readUInt16LE(at + 10);
    const compressedSize = zip.readUInt32LE(at + 20);
    const uncompressedSize = zip.readUInt32LE(at + 24);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const madeBy = zip.readUInt16LE(at + 4) >> 8;
    const external = zip.readUInt32LE(at + 38);
    const localHeaderOffset = zip.readUInt32LE(at + 42);
    const name = zip.toString("utf8", at + 46, at + 46 + nameLength);
    // Unix (3) keeps the file mode in the high 16 bits of the external attributes; 0o120000 is a symbolic link.
    const unixMode = madeBy === 3 ? external >>> 16 : 0;
    const symlink = (unixMode & 0o170000) === 0o120000;
    entries.push({
      name,
      directory: name.endsWith("/"),
      symlink,
      unixMode,
      compressedSize,
      uncompressedSize,
      method,
      localHeaderOffset,
    });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** The bytes of one (small) entry; throws {@link ZipReadError} for a method other than stored or deflated. */
export function readZipEntry(zip: Buffer, entry: ZipEntry): Buffer {
  const at = entry.localHeaderOffset;
  if (at + 30 > zip.length || zip.readUInt32LE(at) !== LOCAL) {
    throw new ZipReadError(`the local header of ${JSON.stringify(entry.name)} is missing`);
  }
  const start = at + 30 + zip.readUInt16LE(at + 26) + zip.readUInt16LE(at + 28);
  const data = zip.subarray(start, start + entry.compressedSize);
  if (entry.method === 0) return Buffer.from(data);
  if (entry.method === 8) return inflateRawSync(data, { maxOutputLength: Math.max(1, entry.uncompressedSize) });
  throw new ZipReadError(`${JSON.stringify(entry.name)} uses compression method ${entry.method}`);
}

function findEndOfCentralDirectory(zip: Buffer): number {
  if (zip.length < EOCD_MIN) throw new ZipReadError(`it is ${zip.length} bytes long, too short to be a zip`);
  const stop = Math.max(0, zip.length - EOCD_MIN - MAX_COMMENT);
  for (let at = zip.length - EOCD_MIN; at >= stop; at--) {
    if (zip.readUInt32LE(at) === EOCD && at + EOCD_MIN + zip.readUInt16LE(at + 20) === zip.length) return at;
  }
  throw new ZipReadError("it has no end-of-central-directory record: it is not a zip file");
}
