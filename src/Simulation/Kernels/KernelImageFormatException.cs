namespace HekiActors.Simulation.Kernels;

/// <summary>
/// What is wrong with a kernel image or module, raised deep in the readers and turned into an error message naming
/// the file at <see cref="KernelImageReader"/>'s boundary; it never escapes that boundary.
/// </summary>
internal sealed class KernelImageFormatException(string problem) : Exception(problem);
