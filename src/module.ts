import { DataSourcePlugin } from '@grafana/data';

import { ConfigEditor } from './components/ConfigEditor/ConfigEditor';
import { QueryEditor } from './components/QueryEditor/QueryEditor';
import { LodeDatasource } from './datasource';
import { LodeOptions, LodeQuery } from './types';

export const plugin = new DataSourcePlugin<LodeDatasource, LodeQuery, LodeOptions>(LodeDatasource)
  .setConfigEditor(ConfigEditor)
  .setQueryEditor(QueryEditor);
