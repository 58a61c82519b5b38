namespace HekiActors.Simulation.Kernels;

/// <summary>
/// One loadable module's memory as the Linux 6.1 module loader lays it out (kernel/module/main.c,
/// <c>layout_sections</c>, with CONFIG_STRICT_MODULE_RWX: each region page aligned). All sizes are bytes and whole
/// pages.
/// </summary>
/// <param name="Name">Module name: the file name without <c>.ko</c> (and compression suffix), '-' read as '_' as modprobe does.</param>
/// <param name="TextBytes">Core executable sections (<c>.text</c>, <c>.text.unlikely</c>, <c>.exit.text</c>, ...).</param>
/// <param name="RodataBytes">Core read-only sections (<c>.rodata*</c>, <c>__ksymtab*</c>, <c>.orc_unwind*</c>, ...).</param>
/// <param name="RoAfterInitBytes"><c>.data..ro_after_init</c> and <c>__jump_table</c>: writable until the module's init returns, read-only after.</param>
/// <param name="DataBytes">Core writable sections (<c>.data</c>, <c>.bss</c>, <c>.gnu.linkonce.this_module</c>, ...).</param>
/// <param name="InitBytes">Sections whose names start with <c>.init</c>: freed once the module's init function returns.</param>
public sealed record ModuleImage(string Name, ulong TextBytes, ulong RodataBytes, ulong RoAfterInitBytes, ulong DataBytes, ulong InitBytes)
{
    public const ulong PageSize = 4096;

    public ulong TextPages => TextBytes / PageSize;

    public ulong RodataPages => RodataBytes / PageSize;

    public ulong RoAfterInitPages => RoAfterInitBytes / PageSize;

    public ulong DataPages => DataBytes / PageSize;

    public ulong InitPages => InitBytes / PageSize;

    /// <summary>Pages the module keeps while loaded (text, rodata, ro_after_init and data).</summary>
    public ulong CorePages => TextPages + RodataPages + RoAfterInitPages + DataPages;
}
