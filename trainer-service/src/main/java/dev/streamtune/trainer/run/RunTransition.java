package dev.streamtune.trainer.run;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.EnumType;
import jakarta.persistence.Enumerated;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;

/** A change of a run's state, with why: the run's history as users and operators read it. */
@Entity
@Table(name = "run_transition")
public class RunTransition extends PanacheEntityBase {

    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long id;

    @Column(name = "run_id")
    public String runId;

    @Enumerated(EnumType.STRING)
    @Column(name = "from_state")
    public RunState fromState;

    @Enumerated(EnumType.STRING)
    @Column(name = "to_state")
    public RunState toState;

    public String reason;
    public Instant at;
}
