namespace HekiActors.Cli.Chaos;

/// <summary>
/// Complete lines in a file another process appends to (a chaos child's acknowledgement log), read on from where the
/// last count stopped. Polled by <see cref="ChaosProcessSupervisor"/>, which has nothing else to be woken by.
/// </summary>
internal sealed class LogLineCounter(string path)
{
    private readonly byte[] _buffer = new byte[64 * 1024];
    private long _position;
    private long _lines;

    /// <summary>Lines counted so far, the new ones included; the last count while the file cannot be opened.</summary>
    public long Count()
    {
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        }
        catch (IOException)
        {
            // Not there yet, or held for a moment: a starting child checks that it can write a log that does not exist
            // yet by creating it exclusively and deleting it (OutputFile), which fails this open with a sharing
            // violation or lets the file vanish between a check and the open. The next poll counts again.
            return _lines;
        }

        using (stream)
        {
            stream.Position = _position;
            int read;
            while ((read = stream.Read(_buffer)) > 0)
            {
                _lines += _buffer.AsSpan(0, read).Count((byte)'\n');
                _position += read;
            }
        }

        return _lines;
    }
}
