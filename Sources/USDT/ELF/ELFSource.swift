import SystemPackage

/// Where an ``ELFFile`` reads its bytes: an open file read with `pread`, or an array in memory.
///
/// A file is kept open rather than reopened for each read so that every read sees the same
/// inode, even if the path is replaced meanwhile (a package upgrade renames a new library over
/// the old one). Only the headers are read up front; sections are read when asked for, so
/// listing the probes of a 100 MB library reads a few kilobytes.
///
/// It is a class because the descriptor needs one owner that closes it when the last copy of
/// the ``ELFFile`` goes away. It is immutable, and `pread` does not move the file offset, so it
/// is safe to share between threads.
final class ELFSource: Sendable {
  private enum Storage {
    case file(FileDescriptor)
    case memory([UInt8])
  }

  private let storage: Storage
  /// The size of the file, taken once when it was opened; every range is checked against it.
  let size: UInt64

  init(bytes: [UInt8]) {
    storage = .memory(bytes)
    size = UInt64(bytes.count)
  }

  /// Opens `path` read-only and records its size.
  ///
  /// - Throws: `.systemCall` with the `errno` of `open(2)` or `fstat(2)` (`EISDIR` for a
  ///   directory), `.malformedELF` for a file that is not regular (a FIFO or a device).
  init(path: String) throws(USDTError) {
    let fd: FileDescriptor
    do {
      // Non-blocking, so a FIFO without a writer is refused below instead of blocking open(2);
      // reads of a regular file ignore the flag.
      fd = try FileDescriptor.open(FilePath(path), .readOnly, options: [.closeOnExec, .nonBlocking])
    } catch {
      throw USDTError(.systemCall, "cannot open the file", errno: error as? Errno, binary: path)
    }
    let status: Stat
    do {
      status = try fd.stat()
    } catch {
      try? fd.close()
      throw USDTError(.systemCall, "fstat", errno: error, binary: path)
    }
    guard status.type == .regular else {
      try? fd.close()
      if status.type == .directory {
        throw USDTError(.systemCall, "cannot read the file", errno: .isDirectory, binary: path)
      }
      throw USDTError(.malformedELF, "not a regular file", binary: path)
    }
    storage = .file(fd)
    size = UInt64(clamping: status.size)
  }

  deinit {
    if case .file(let fd) = storage {
      // Nothing useful can be done about a failed close of a read-only descriptor.
      try? fd.close()
    }
  }

  /// The bytes `offset ..< offset + count`.
  ///
  /// - Throws: `.malformedELF` when the range is not inside the file (or the file shrank since
  ///   it was opened), `.systemCall` when `pread(2)` fails.
  func read(at offset: UInt64, count: Int) throws(USDTError) -> [UInt8] {
    guard count >= 0, offset <= size, UInt64(count) <= size - offset else {
      throw USDTError(
        .malformedELF,
        "\(count) bytes at file offset \(ELFFile.hex(offset)) are past the end of the file (\(size) bytes)")
    }
    switch storage {
    case .memory(let bytes):
      let start = Int(offset)  // offset <= size == bytes.count, so it fits
      return Array(bytes[start..<(start + count)])
    case .file(let fd):
      return try pread(fd, at: offset, count: count)
    }
  }

  /// Reads exactly `count` bytes with as many `pread(2)` calls as it takes.
  private func pread(_ fd: FileDescriptor, at offset: UInt64, count: Int) throws(USDTError) -> [UInt8] {
    var failure: USDTError?
    let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
      initialized = 0
      while initialized < count {
        let position = offset + UInt64(initialized)  // <= size, checked by the caller
        let target = UnsafeMutableRawBufferPointer(UnsafeMutableBufferPointer(rebasing: buffer[initialized...]))
        let n: Int
        do {
          n = try fd.read(fromAbsoluteOffset: Int64(clamping: position), into: target)
        } catch {
          failure = USDTError(.systemCall, "pread", errno: error as? Errno)
          break
        }
        if n == 0 {
          failure = USDTError(
            .malformedELF, "the file ended at \(ELFFile.hex(position)) while reading it; was it truncated?")
          break
        }
        initialized += n
      }
      if failure != nil { initialized = 0 }
    }
    if let failure { throw failure }
    return bytes
  }
}

