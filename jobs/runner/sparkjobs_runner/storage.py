"""Reading and writing small files through Hadoop's FileSystem, so that local paths, file:,
s3a:// (and s3:// on EMR) all work the same way on every engine."""
import os


def _fs_and_path(spark, uri):
    jvm = spark._jvm
    path = jvm.org.apache.hadoop.fs.Path(uri)
    fs = path.getFileSystem(spark._jsc.hadoopConfiguration())
    return fs, path


def read_text(spark, uri):
    """The exact text of a file (the plan's hash is taken over these bytes)."""
    if "://" not in uri and os.path.exists(uri):
        with open(uri, "r", encoding="utf-8", newline="") as f:
            return f.read()
    fs, path = _fs_and_path(spark, uri)
    stream = fs.open(path)
    try:
        return bytes(spark._jvm.org.apache.commons.io.IOUtils.toByteArray(stream)).decode("utf-8")
    finally:
        stream.close()


def read_text_if_exists(spark, uri):
    """The text of a file, or None when there is none."""
    if "://" not in uri:
        return read_text(spark, uri) if os.path.exists(uri) else None
    fs, path = _fs_and_path(spark, uri)
    return read_text(spark, uri) if fs.exists(path) else None


def _local(uri):
    """The path of a URI on this machine's file system, or None for any other."""
    if uri.startswith("file:"):
        from urllib.parse import urlparse
        from urllib.request import url2pathname
        return url2pathname(urlparse(uri).path)
    return None if "://" in uri else uri


def write_text_atomically(spark, uri, text):
    """Writes to a temporary name, then renames: a reader sees the whole file or none. A local file
    is written by Python (Hadoop's local file system would leave a .crc file beside it)."""
    local = _local(uri)
    if local is not None:
        os.makedirs(os.path.dirname(local) or ".", exist_ok=True)
        tmp = f"{local}.tmp-{os.getpid()}"
        try:
            with open(tmp, "w", encoding="utf-8", newline="") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, local)
        except BaseException:
            if os.path.exists(tmp):
                os.remove(tmp)
            raise
        return
    fs, path = _fs_and_path(spark, uri)
    tmp = spark._jvm.org.apache.hadoop.fs.Path(uri + ".tmp")
    out = fs.create(tmp, True)
    try:
        out.write(bytearray(text.encode("utf-8")))
    finally:
        out.close()
    if fs.exists(path):
        fs.delete(path, False)
    if not fs.rename(tmp, path):
        raise IOError(f"could not rename {tmp} to {uri}")


def delete(spark, uri):
    fs, path = _fs_and_path(spark, uri)
    if fs.exists(path):
        fs.delete(path, True)


def list_data_files(spark, uri):
    """Data files of a written output (no _SUCCESS, no hidden files), relative path and size."""
    fs, path = _fs_and_path(spark, uri)
    files = []
    for status in fs.listStatus(path):
        name = status.getPath().getName()
        if status.isFile() and not name.startswith(("_", ".")):
            files.append({"path": name, "bytes": int(status.getLen())})
    return sorted(files, key=lambda f: f["path"])


def list_names(spark, uri):
    """Names of the files directly under a folder; none when the folder does not exist."""
    fs, path = _fs_and_path(spark, uri)
    if not fs.exists(path):
        return []
    return sorted(status.getPath().getName() for status in fs.listStatus(path) if status.isFile())
