"""The orchestration worker: Redis stream consumer, agent builder and runner.

Public surface (what the backend, tasks, tests and benchmarks call)::

    WorkerSettings                      orchestrator.config
    run_worker, deploy_once             orchestrator.worker
    Deployer, DeployReport              orchestrator.deploy
    StreamConsumer, ConsumerConfig      orchestrator.consumer
    agent_name_for_folder, check_agent_name, name_collisions,
    validate_agent_folder, InvalidAgent orchestrator.validate
    context_files, context_hash         orchestrator.context_hash
"""
