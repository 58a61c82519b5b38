using System.Net;
using System.Net.Sockets;

namespace HekiActors.Cli.Node;

/// <summary>
/// Whether a node's TCP port can be bound, asked before Akka starts: Akka.Hosting prints a 60-line nested trace to
/// standard output when remoting cannot bind, before the node can say so in one line.
/// </summary>
internal static class PortProbe
{
    /// <summary>
    /// Why <paramref name="host"/>:<paramref name="port"/> cannot be bound (e.g. "Address already in use"), or null if it
    /// can, if <paramref name="port"/> is 0 (any free port) or if the host does not resolve here (Akka's start says why).
    /// Binds with SO_REUSEADDR as Akka's transport does, so a port left in TIME_WAIT by a restarted node counts as free.
    /// </summary>
    public static string? WhyNotBindable(string host, int port)
    {
        if (port == 0)
            return null;
        IPAddress address;
        try
        {
            address = IPAddress.TryParse(host, out var parsed) ? parsed : Dns.GetHostAddresses(host)[0];
        }
        catch (Exception e) when (e is SocketException or ArgumentException or IndexOutOfRangeException)
        {
            return null;
        }

        using var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            socket.Bind(new IPEndPoint(address, port));
            return null;
        }
        catch (SocketException e)
        {
            return e.Message;
        }
    }
}
