namespace HekiActors.Simulation.Kernels;

/// <summary>
/// A guest kernel and the modules it can load, as one immutable value that every VM of a run shares.
/// </summary>
/// <param name="Name">Short name for reports, e.g. <c>debian-6.1.0-47-amd64</c>.</param>
/// <param name="Kernel">The kernel's sections.</param>
/// <param name="Modules">The modules that can be loaded, in a stable order (sorted by path when read from a tree).</param>
/// <param name="Provenance">Where the data came from (package, version, checksum), free text for reports; may be empty.</param>
/// <param name="ModulesAvailable">How many modules the source held (more than <see cref="Modules"/> when this is a sample).</param>
public sealed record KernelPackage(string Name, KernelImage Kernel, IReadOnlyList<ModuleImage> Modules, string Provenance, int ModulesAvailable);
