using HekiActors.Memory;
using Xunit.Abstractions;

namespace HekiActors.Actors.Tests;

/// <summary>
/// A VM that has not yet sent any of its vCPUs a translation has nothing to shoot down (heki-semantics.md §6: cached
/// translations are invalidated; none are cached), so an untraced change is answered without the round trip (issue 11:
/// a boot's changes all come before its first access). Once a vCPU holds a translation, every change is shot down again.
/// </summary>
public sealed class ShootdownSkipTests(ITestOutputHelper output) : ActorTestBase(output)
{
    [Fact]
    public void A_change_before_any_translation_is_in_force_at_once_and_later_changes_are_shot_down()
    {
        CreateVm("a", vcpus: 2);
        Assert.Equal(0, Protect("a", 0, Gfns(0x10, 0x11, R)));
        Assert.Equal(0, Status("a").Generation); // no shootdown: no vCPU held a translation
        Assert.Equal(AccessResult.PageFault, Access("a", 1, Gpa(0x10), AccessKind.Write));

        // vCPU 0 now holds a writable translation of gfn 0x20: the next change must take it away before it is answered.
        Assert.Equal(AccessResult.Ok, Access("a", 0, Gpa(0x20), AccessKind.Write));
        Assert.Equal(0, Protect("a", 1, Gfns(0x20, 0x21, R)));
        Assert.Equal(1, Status("a").Generation);
        Assert.Equal(AccessResult.PageFault, Access("a", 0, Gpa(0x20), AccessKind.Write));
    }
}
