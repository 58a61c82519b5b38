namespace HekiActors.Cli.Output;

/// <summary>
/// A write-only stream that turns every write or flush failure of the stream under it into an
/// <see cref="OutputFailedException"/> naming the output, and fails fast once it has failed (nothing half-written follows).
/// </summary>
/// <remarks>
/// .NET's console stream on Unix drops EPIPE silently, so a reader that went away (<c>| head -2</c>) is never noticed;
/// streams opened on the raw file descriptors report it, and this wrapper says which output it was.
/// </remarks>
public sealed class CheckedStream(Stream inner, string target, bool ownsInner = true) : WriteOnlyStream
{
    private OutputFailedException? _failed;

    public string Target { get; } = target;

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        ThrowIfFailed();
        try
        {
            inner.Write(buffer);
        }
        catch (IOException e) when (e is not OutputFailedException)
        {
            throw Fail(e);
        }
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ThrowIfFailed();
        try
        {
            await inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException e) when (e is not OutputFailedException)
        {
            throw Fail(e);
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
        ThrowIfFailed();
        try
        {
            inner.Flush();
        }
        catch (IOException e) when (e is not OutputFailedException)
        {
            throw Fail(e);
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && ownsInner)
        {
            try
            {
                inner.Dispose();
            }
            catch (IOException) when (_failed is not null)
            {
                // Already reported: closing a failed file must not throw a second time.
            }
        }

        base.Dispose(disposing);
    }

    private OutputFailedException Fail(IOException e) => _failed = new OutputFailedException(Target, e);

    private void ThrowIfFailed()
    {
        if (_failed is not null)
            throw _failed;
    }
}
