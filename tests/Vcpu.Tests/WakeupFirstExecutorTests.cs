using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit.Xunit2;
using HekiActors.Vcpu.Scheduling;

namespace HekiActors.Vcpu.Tests;

/// <summary>
/// The vCPUs' scheduler (issue 11, fairness): a message from another actor to a busy actor waits for one turn of another
/// busy actor at most, not for a turn of every busy one; the busy ones are never starved. One worker thread, and every
/// sender an actor on it, so the counts are exact whatever the machine's load.
/// </summary>
public sealed class WakeupFirstExecutorTests() : TestKit(Config)
{
    private const int BusyActors = 40;

    private static readonly Config Config = ConfigurationFactory.ParseString($$"""
        busy-dispatcher {
          type = Dispatcher
          executor = "{{typeof(WakeupFirstExecutorConfigurator).FullName}}, {{typeof(WakeupFirstExecutorConfigurator).Assembly.GetName().Name}}"
          wakeup-first-executor.thread-count = 1
          mailbox-type = "{{typeof(WakeupMailbox).FullName}}, {{typeof(WakeupMailbox).Assembly.GetName().Name}}"
          throughput = 1
        }
        shared-busy-dispatcher {
          type = Dispatcher
          executor = "{{typeof(WakeupFirstExecutorConfigurator).FullName}}, {{typeof(WakeupFirstExecutorConfigurator).Assembly.GetName().Name}}"
          wakeup-first-executor { thread-count = 1, shared = one-executor }
          mailbox-type = "{{typeof(WakeupMailbox).FullName}}, {{typeof(WakeupMailbox).Assembly.GetName().Name}}"
          throughput = 1
        }
        shared-control-dispatcher {
          type = Dispatcher
          executor = "{{typeof(WakeupFirstExecutorConfigurator).FullName}}, {{typeof(WakeupFirstExecutorConfigurator).Assembly.GetName().Name}}"
          wakeup-first-executor { thread-count = 1, shared = one-executor }
          throughput = 30
        }
        """);

    [Fact]
    public void A_message_from_another_actor_overtakes_the_busy_actors_turns()
    {
        var turns = new TurnCounter();
        var busy = Enumerable.Range(0, BusyActors)
            .Select(i => Sys.ActorOf(Props.Create(() => new BusyActor(turns)).WithDispatcher("busy-dispatcher"), "busy-" + i))
            .ToArray();
        // All of them busy (each started, and its next turn waiting)...
        StartBusy(busy);
        // ...the sender pings the target from inside one of its own turns.
        busy[0].Tell(new PingAfter(busy[BusyActors - 1], TurnsFromNow: 2), TestActor);

        var answer = ExpectMsg<Pinged>(TimeSpan.FromSeconds(30));

        // Sent in a turn of the sender's; once the sender's mailbox run ends (Akka may hand it its next message in the same
        // run), the target runs next. A FIFO executor runs every other busy actor first.
        Assert.Single(turns.Threads);
        AssertOnlyTheSenderRanBetween(turns, answer);
        foreach (var actor in busy)
            Sys.Stop(actor);
    }

    [Fact]
    public void Busy_actors_still_get_turns_while_others_are_woken_again_and_again()
    {
        var turns = new TurnCounter();
        var busy = Sys.ActorOf(Props.Create(() => new BusyActor(turns)).WithDispatcher("busy-dispatcher"), "busy");
        var pinger = Sys.ActorOf(Props.Create(() => new PingPong(turns)).WithDispatcher("busy-dispatcher"), "pinger");
        var ponger = Sys.ActorOf(Props.Create(() => new PingPong(turns)).WithDispatcher("busy-dispatcher"), "ponger");
        busy.Tell(new Start(1_000), TestActor);
        // Two actors that wake each other for ever: every turn of theirs is a wake-up.
        pinger.Tell(new Ball(ponger));

        ExpectMsg<Started>(TimeSpan.FromSeconds(30));
        ExpectMsg<Finished>(TimeSpan.FromSeconds(30));
        Sys.Stop(pinger);
        Sys.Stop(ponger);
    }

    [Fact]
    public void A_turn_another_actor_woke_takes_one_message_and_the_actors_own_next_one_waits_behind_the_busy()
    {
        var turns = new TurnCounter();
        var busy = Sys.ActorOf(Props.Create(() => new BusyActor(turns)).WithDispatcher("busy-dispatcher"), "busy");
        var woken = Sys.ActorOf(Props.Create(() => new WokenThenBusy(turns)).WithDispatcher("busy-dispatcher"), "woken");
        busy.Tell(new Start(int.MaxValue), TestActor);
        ExpectMsg<Started>(TimeSpan.FromSeconds(30));
        // The busy actor pings the idle one from inside a turn: that wakes it, and it sends itself its next message (as a
        // vCPU given a translation fill resumes its chunk).
        busy.Tell(new PingAfter(woken, TurnsFromNow: 1), TestActor);

        var resumed = ExpectMsg<Resumed>(TimeSpan.FromSeconds(30));

        // One message a turn: the woken turn ends after the ping, and the actor's own message goes behind the busy actor
        // waiting (one worker thread). Taken in the same run (Akka's mailbox runs take two where two wait), nothing ran
        // between them.
        Assert.Single(turns.Threads);
        Assert.True(resumed.ResumedAtTurn > resumed.PingedAtTurn + 1, $"pinged at turn {resumed.PingedAtTurn}, resumed at {resumed.ResumedAtTurn}");
        Assert.Equal("busy", turns.ActorOf(resumed.PingedAtTurn + 1));
        Sys.Stop(busy);
        Sys.Stop(woken);
    }

    [Fact]
    public void Dispatchers_sharing_an_executor_run_on_its_threads_and_an_ordinary_mailbox_is_served_before_the_busy_ones()
    {
        var turns = new TurnCounter();
        var busy = Enumerable.Range(0, BusyActors)
            .Select(i => Sys.ActorOf(Props.Create(() => new BusyActor(turns)).WithDispatcher("shared-busy-dispatcher"), "busy-" + i))
            .ToArray();
        // A VM's kind of actor: the default mailbox, on the other dispatcher of the same executor.
        var control = Sys.ActorOf(Props.Create(() => new BusyActor(turns)).WithDispatcher("shared-control-dispatcher"), "control");
        StartBusy(busy);
        busy[0].Tell(new PingAfter(control, TurnsFromNow: 2), TestActor);

        var answer = ExpectMsg<Pinged>(TimeSpan.FromSeconds(30));

        // One thread for both dispatchers (each asks for one: two executors would be two threads), and the other
        // dispatcher's actor runs as soon as the sender's turn ends, before the other busy actors.
        Assert.Single(turns.Threads);
        AssertOnlyTheSenderRanBetween(turns, answer);
        foreach (var actor in busy)
            Sys.Stop(actor);
        Sys.Stop(control);
    }

    /// <summary>Starts each actor on an endless run of its own turns and waits until all of them are busy.</summary>
    private void StartBusy(IActorRef[] busy)
    {
        foreach (var actor in busy)
            actor.Tell(new Start(int.MaxValue), TestActor);
        for (var i = 0; i < busy.Length; i++)
            ExpectMsg<Started>(TimeSpan.FromSeconds(30));
    }

    /// <summary>Every turn between the ping's sending and its handling was the sender's (busy-0): no other busy actor ran.</summary>
    private static void AssertOnlyTheSenderRanBetween(TurnCounter turns, Pinged answer)
    {
        var between = Enumerable.Range(1, (int)(answer.HandledAtTurn - answer.SentAtTurn - 1)).Select(d => turns.ActorOf(answer.SentAtTurn + d));
        Assert.All(between, actor => Assert.Equal("busy-0", actor));
    }

    private sealed class TurnCounter
    {
        private readonly System.Collections.Concurrent.ConcurrentDictionary<int, bool> _threads = new();
        private readonly System.Collections.Concurrent.ConcurrentDictionary<long, string> _actors = new();
        private long _turns;

        /// <summary>The threads turns ran on (the dispatcher is configured with one).</summary>
        public ICollection<int> Threads => _threads.Keys;

        /// <summary>The actor whose turn had this number.</summary>
        public string ActorOf(long turn) => _actors.GetValueOrDefault(turn, "");

        public long Next(IActorRef actor)
        {
            _threads.TryAdd(Environment.CurrentManagedThreadId, true);
            var turn = Interlocked.Increment(ref _turns);
            _actors[turn] = actor.Path.Name;
            return turn;
        }
    }

    private sealed record Start(int Turns);

    private sealed record Started;

    private sealed record Continue;

    private sealed record Finished;

    private sealed record PingAfter(IActorRef Target, int TurnsFromNow);

    private sealed record Ping(long SentAtTurn, IActorRef ReplyTo);

    private sealed record Pinged(long SentAtTurn, long HandledAtTurn);

    private sealed record Ball(IActorRef Other);

    private sealed record Resume(long PingedAtTurn, IActorRef ReplyTo);

    private sealed record Resumed(long PingedAtTurn, long ResumedAtTurn);

    /// <summary>Woken by a ping, it continues with a message to itself (a vCPU resuming its chunk after a fill).</summary>
    private sealed class WokenThenBusy(TurnCounter turns) : UntypedActor
    {
        protected override void OnReceive(object message)
        {
            switch (message)
            {
                case Ping ping:
                    Self.Tell(new Resume(turns.Next(Self), ping.ReplyTo));
                    break;
                case Resume resume:
                    resume.ReplyTo.Tell(new Resumed(resume.PingedAtTurn, turns.Next(Self)));
                    break;
            }
        }
    }

    /// <summary>Works in turns of one message, sending itself the next (a vCPU's workload chunks).</summary>
    private sealed class BusyActor(TurnCounter turns) : UntypedActor
    {
        private int _left;
        private IActorRef _replyTo = ActorRefs.Nobody;
        private PingAfter? _ping;
        private IActorRef _pingReplyTo = ActorRefs.Nobody;
        private int _pingCountdown;

        protected override void OnReceive(object message)
        {
            switch (message)
            {
                case Start start:
                    _left = start.Turns;
                    _replyTo = Sender;
                    Self.Tell(new Continue());
                    Sender.Tell(new Started());
                    break;
                case PingAfter ping:
                    _ping = ping;
                    _pingCountdown = ping.TurnsFromNow;
                    _pingReplyTo = Sender;
                    break;
                case Continue:
                    var turn = turns.Next(Self);
                    if (_ping is not null && --_pingCountdown == 0)
                        _ping.Target.Tell(new Ping(turn, _pingReplyTo));
                    if (--_left > 0)
                        Self.Tell(new Continue());
                    else
                        _replyTo.Tell(new Finished());
                    break;
                case Ping ping:
                    ping.ReplyTo.Tell(new Pinged(ping.SentAtTurn, turns.Next(Self)));
                    break;
            }
        }
    }

    /// <summary>Sends the ball back at once: every turn of its is a wake-up by the other.</summary>
    private sealed class PingPong(TurnCounter turns) : UntypedActor
    {
        protected override void OnReceive(object message)
        {
            if (message is Ball ball)
            {
                turns.Next(Self);
                ball.Other.Tell(new Ball(Self));
            }
        }
    }
}
