using System.Net;
using System.Net.Sockets;

namespace HekiActors.TestSupport;

/// <summary>Ports for the servers tests start themselves (never anything but 127.0.0.1).</summary>
public static class LoopbackPorts
{
    /// <summary>A TCP port of 127.0.0.1 free a moment ago (the system's choice; released before it is returned).</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
