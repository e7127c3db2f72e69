"""The reference AI stacks gameday stands up and breaks: tabular, triton, rag and the edge."""
