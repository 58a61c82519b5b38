using HekiActors.Simulation.Kernels;

namespace HekiActors.Simulation.Tests.Kernels;

/// <summary>What a --modules path names: a folder, one module, or a list.</summary>
public sealed class ModuleTreeTests : IDisposable
{
    private readonly TemporaryFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void A_folder_gives_its_module_files_at_any_depth_in_path_order()
    {
        var b = _folder.Write("kernel/net/b.ko", [1]);
        var a = _folder.Write("kernel/drivers/a.ko.xz", [1]);
        var c = _folder.Write("extra/c.ko.zst", [1]);
        _folder.Write("modules.dep", "not a module");
        _folder.Write("kernel/net/b.ko.sig", [1]);

        Assert.True(ModuleTree.TryFind(_folder.Path, out var files, out var error), error);

        Assert.Equal([c, a, b], files);
    }

    [Fact]
    public void A_list_gives_its_paths_in_its_order_relative_to_the_list()
    {
        var list = _folder.Write("sub/list.txt", "# chosen modules\n\nb.ko\n/abs/a.ko.gz\n  c.ko  \n");

        Assert.True(ModuleTree.TryFind(list, out var files, out var error), error);

        Assert.Equal([Path.Combine(_folder.Path, "sub", "b.ko"), "/abs/a.ko.gz", Path.Combine(_folder.Path, "sub", "c.ko")], files);
    }

    [Fact]
    public void One_module_file_is_a_list_of_one()
    {
        var ko = _folder.Write("x.ko", [1]);

        Assert.True(ModuleTree.TryFind(ko, out var files, out _));

        Assert.Equal([ko], files);
    }

    [Fact]
    public void Missing_paths_empty_folders_and_lists_of_other_things_are_refused_by_name_and_line()
    {
        var missing = Path.Combine(_folder.Path, "nope");
        Assert.False(ModuleTree.TryFind(missing, out _, out var error));
        Assert.Equal(missing + ": no such file or folder", error);

        var empty = Path.Combine(_folder.Path, "empty");
        Directory.CreateDirectory(empty);
        Assert.False(ModuleTree.TryFind(empty, out _, out error));
        Assert.Equal(empty + ": no module files (.ko, .ko.xz, .ko.gz, .ko.zst) under this folder", error);

        var list = _folder.Write("list.txt", "a.ko\nREADME.md\n");
        Assert.False(ModuleTree.TryFind(list, out _, out error));
        Assert.Equal(list + ": line 2: \"README.md\" is not a module file name (.ko, .ko.xz, .ko.gz, .ko.zst)", error);

        var binary = _folder.Write("blob", [0x7f, (byte)'E', 0, 0, 10]);
        Assert.False(ModuleTree.TryFind(binary, out _, out error));
        Assert.Equal(binary + ": line 1: not a text list of module files (neither a folder, a .ko file nor a list)", error);

        var comments = _folder.Write("comments.txt", "# nothing\n");
        Assert.False(ModuleTree.TryFind(comments, out _, out error));
        Assert.Equal(comments + ": lists no module files", error);
    }
}
