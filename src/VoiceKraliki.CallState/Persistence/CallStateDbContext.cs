using Microsoft.EntityFrameworkCore;
using VoiceKraliki.CallState.Calls;
using VoiceKraliki.Contracts;

namespace VoiceKraliki.CallState.Persistence;

/// <summary>
/// call-state's database. The schema (with its indexes and constraints) is owned by the hand-written SQL in
/// <c>Migrations/</c>; this model only maps it, names given explicitly so that a renamed property cannot drift
/// from its column.
/// </summary>
public sealed class CallStateDbContext(DbContextOptions<CallStateDbContext> options) : DbContext(options)
{
    public DbSet<CallRecord> Calls => Set<CallRecord>();

    public DbSet<CallTransitionRecord> CallTransitions => Set<CallTransitionRecord>();

    public DbSet<InboxMessage> InboxMessages => Set<InboxMessage>();

    public DbSet<OutboxMessage> OutboxMessages => Set<OutboxMessage>();

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        configurationBuilder.Properties<TelephonyProvider>().HaveConversion<DbEnumConverter<TelephonyProvider>>();
        configurationBuilder.Properties<CallDirection>().HaveConversion<DbEnumConverter<CallDirection>>();
        configurationBuilder.Properties<CallStatus>().HaveConversion<DbEnumConverter<CallStatus>>();
        configurationBuilder.Properties<CallEndReason>().HaveConversion<DbEnumConverter<CallEndReason>>();
        configurationBuilder.Properties<TransitionOutcome>().HaveConversion<DbEnumConverter<TransitionOutcome>>();
    }

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<CallRecord>(call =>
        {
            call.ToTable("calls");
            call.HasKey(c => c.ProviderCallId);
            call.Property(c => c.ProviderCallId).HasColumnName("provider_call_id");
            call.Property(c => c.SessionId).HasColumnName("session_id");
            call.Property(c => c.Provider).HasColumnName("provider");
            call.Property(c => c.Direction).HasColumnName("direction");
            call.Property(c => c.Status).HasColumnName("status");
            call.Property(c => c.EndReason).HasColumnName("end_reason");
            call.Property(c => c.From).HasColumnName("from_number");
            call.Property(c => c.To).HasColumnName("to_number");
            call.Property(c => c.Metadata).HasColumnName("metadata").HasColumnType("jsonb");
            call.Property(c => c.CreatedAt).HasColumnName("created_at");
            call.Property(c => c.UpdatedAt).HasColumnName("updated_at");
            call.Property(c => c.AnsweredAt).HasColumnName("answered_at");
            call.Property(c => c.EndedAt).HasColumnName("ended_at");
            call.Property(c => c.LastSequence).HasColumnName("last_sequence");
            call.Property(c => c.LastProviderTime).HasColumnName("last_provider_time");
            call.Property(c => c.AppliedTransitions).HasColumnName("applied_transitions");
        });

        modelBuilder.Entity<CallTransitionRecord>(transition =>
        {
            transition.ToTable("call_transitions");
            transition.HasKey(t => t.Id);
            transition.Property(t => t.Id).HasColumnName("id").UseIdentityAlwaysColumn();
            transition.Property(t => t.CallId).HasColumnName("call_id");
            transition.Property(t => t.EventId).HasColumnName("event_id");
            transition.Property(t => t.EventType).HasColumnName("event_type");
            transition.Property(t => t.FromStatus).HasColumnName("from_status");
            transition.Property(t => t.ToStatus).HasColumnName("to_status");
            transition.Property(t => t.EndReason).HasColumnName("end_reason");
            transition.Property(t => t.Outcome).HasColumnName("outcome");
            transition.Property(t => t.IgnoredBecause).HasColumnName("ignored_because");
            transition.Property(t => t.Sequence).HasColumnName("sequence");
            transition.Property(t => t.ProviderTime).HasColumnName("provider_time");
            transition.Property(t => t.ReceivedAt).HasColumnName("received_at");
            transition.Property(t => t.CommittedAt).HasColumnName("committed_at");
            transition.HasOne<CallRecord>().WithMany().HasForeignKey(t => t.CallId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<InboxMessage>(inbox =>
        {
            inbox.ToTable("inbox_messages");
            inbox.HasKey(i => new { i.EventId, i.Consumer });
            inbox.Property(i => i.EventId).HasColumnName("event_id");
            inbox.Property(i => i.Consumer).HasColumnName("consumer");
            inbox.Property(i => i.ProcessedAt).HasColumnName("processed_at");
        });

        modelBuilder.Entity<OutboxMessage>(outbox =>
        {
            outbox.ToTable("outbox_messages");
            outbox.HasKey(o => o.Id);
            outbox.Property(o => o.Id).HasColumnName("id").ValueGeneratedNever();
            outbox.Property(o => o.Type).HasColumnName("type");
            outbox.Property(o => o.Payload).HasColumnName("payload").HasColumnType("jsonb");
            outbox.Property(o => o.CreatedAt).HasColumnName("created_at");
            outbox.Property(o => o.PublishedAt).HasColumnName("published_at");
            outbox.Property(o => o.Attempts).HasColumnName("attempts");
            outbox.Property(o => o.LastError).HasColumnName("last_error");
            outbox.Property(o => o.NextAttemptAt).HasColumnName("next_attempt_at");
        });
    }
}
