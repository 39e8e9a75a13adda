import { useState } from 'preact/hooks';
import { useAction } from '../action';
import { api } from '../api';
import { SubmitButton, TextField } from '../fields';
import { formatDateTime } from '../format-date';
import { ROUTES } from '../routes';
import { type Me, session, useSession } from '../session';
import { TableHead } from '../table';
import { Card, ErrorNote, Page, Spinner, useLoad } from '../ui';
import { KeysCard } from './projects/keys';
import { MembersCard } from './projects/members';
import { QuotaCard } from './projects/quota';
import type { Project, ProjectDetail, ProjectRights } from './projects/types';

function CreateProject(props: { onCreated: (project: Project) => Promise<void> }) {
  const [name, setName] = useState('');
  const create = useAction(async () => {
    const project = await api<Project>('/projects', { json: { name } });
    setName('');
    await props.onCreated(project);
  });
  return (
    <form onSubmit={create.submit}>
      <h3>Create a project</h3>
      <div class="row form-row">
        <TextField
          label="Project name"
          hint="You become its owner."
          required
          maxLength={200}
          placeholder="search-team"
          value={name}
          onInput={setName}
        />
        <SubmitButton action={create} label="Create project" busyLabel="Creating…" inRow />
      </div>
      <ErrorNote error={create.error} />
    </form>
  );
}

function ProjectList(props: { projects: Project[]; selectedId: string | null; isAdmin: boolean }) {
  if (props.projects.length === 0) return <p class="muted">No project yet: create one below.</p>;
  return (
    <div class="table-wrap">
      <table aria-label="Projects">
        <TableHead columns={['Name', 'Created', { title: 'Selection', hidden: true }]} />
        <tbody>
          {props.projects.map((p) => {
            const selected = p.id === props.selectedId;
            return (
              <tr key={p.id} class={selected ? 'selected' : undefined}>
                <td>{p.name}</td>
                <td>{formatDateTime(p.created_at)}</td>
                <td>
                  {selected ? (
                    <span class="badge">selected</span>
                  ) : (
                    <button
                      type="button"
                      class="secondary"
                      aria-label={`Open ${p.name}`}
                      onClick={() => session.chooseProject(p.id)}
                    >
                      Open
                    </button>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {props.isAdmin && <p class="hint">As an administrator you see every project.</p>}
    </div>
  );
}

function rightsIn(project: ProjectDetail, me: Me): ProjectRights {
  const admin = me.role === 'admin';
  const mine = project.members.find((m) => m.user_id === me.id)?.role;
  return { manageMembers: admin || mine === 'owner', editQuota: admin, listUsers: admin };
}

/** The selected project: details and members, API keys, quota. */
function ProjectView(props: { projectId: string; me: Me }) {
  const detail = useLoad(() => api<ProjectDetail>(`/projects/${props.projectId}`), [props.projectId]);
  const project = detail.data?.id === props.projectId ? detail.data : undefined;
  if (!project) {
    return detail.error ? <ErrorNote error={detail.error} /> : <Spinner label="Loading the project…" />;
  }
  const rights = rightsIn(project, props.me);
  const myRole =
    props.me.role === 'admin' ? 'administrator' : (project.members.find((m) => m.user_id === props.me.id)?.role ?? '—');
  return (
    <section class="project-view" aria-labelledby="project-title">
      <h2 id="project-title">{project.name}</h2>
      <dl class="stats">
        <div>
          <dt>Id</dt>
          <dd>
            <code>{project.id}</code>
          </dd>
        </div>
        <div>
          <dt>Created</dt>
          <dd>{formatDateTime(project.created_at)}</dd>
        </div>
        <div>
          <dt>Owner</dt>
          <dd>{project.members.find((m) => m.user_id === project.owner_id)?.email ?? project.owner_id}</dd>
        </div>
        <div>
          <dt>You are</dt>
          <dd>{myRole}</dd>
        </div>
      </dl>
      <ErrorNote error={detail.error} />
      <div class="project-cards">
        <KeysCard projectId={project.id} />
        <MembersCard projectId={project.id} members={project.members} rights={rights} onChanged={detail.reload} />
        <QuotaCard projectId={project.id} editable={rights.editQuota} />
      </div>
    </section>
  );
}

export function ProjectsPage() {
  const { me, projectId } = useSession();
  const projects = useLoad(() => api<Project[]>('/projects'), []);
  const created = async (project: Project) => {
    // The top bar's picker lists the projects from the session: refresh it and select the new one.
    const list = await api<Project[]>('/projects');
    session.updateProjects(list.map((p) => ({ id: p.id, name: p.name })));
    session.chooseProject(project.id);
    projects.reload();
  };
  return (
    <Page title={ROUTES.projects.title}>
      <Card title="Projects">
        <ErrorNote error={projects.error} />
        {projects.data ? (
          <ProjectList projects={projects.data} selectedId={projectId} isAdmin={me?.role === 'admin'} />
        ) : (
          !projects.error && <Spinner label="Loading projects…" />
        )}
        <CreateProject onCreated={created} />
      </Card>
      {me && projectId && <ProjectView key={projectId} projectId={projectId} me={me} />}
    </Page>
  );
}
